/**
 * Parity of gradients between the CPU and WebGPU devices (issue 10): for every differentiable case
 * of parity-cases.ts, born.grad of a fixed weighting of its float outputs with respect to its
 * float inputs, on each device.
 */
import { describe } from 'vitest';
import { CASES } from './parity-cases.js';
import { TOL, gradInputs, parityIt, printTally, runGradCase, tolOf, type Case } from './parity.js';

/** Families without gradients (integer, bool and index results, casts, made tensors); of the random ops only dropout has one. */
const differentiable = (c: Case): boolean => gradInputs(c).length > 0 && !['int/bool', 'cast', 'creation'].includes(c.family) &&
  (c.family !== 'random' || c.name.startsWith('dropout')) && !c.name.includes('int32');

printTally('parity-grad: gradient cases by family');

describe('every differentiable op has the same gradient on webgpu and cpu', () => {
  for (const c of CASES.filter(differentiable)) {
    const tol = Math.max(c.gradTol ?? TOL.grad, tolOf(c));
    parityIt(`grad ${c.family}: ${c.name} (rtol ${tol})`, c.family, () => runGradCase(c), c.gradKnown ?? c.known);
  }
});
