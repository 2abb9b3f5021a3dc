/** Every op family registers its builders on import: one line per family file. */
import './elementwise.js';
import './shape.js';
import './slicing.js';
import './reduce.js';
import './if.js';
import './linalg.js';
import './misc.js';
import './select.js';
import './pad.js';
