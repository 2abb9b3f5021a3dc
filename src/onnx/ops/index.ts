/** Every op family registers its builders on import: one line per family file. */
import './elementwise.js';
import './shape.js';
import './linalg.js';
import './norm.js';
import './conv.js';
import './pool.js';
import './resample.js';
import './resize.js';
