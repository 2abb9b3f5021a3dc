/**
 * Parity of every op of the API between the CPU and WebGPU devices (issue 10): values, dtypes and
 * shapes of each case of parity-cases.ts, and the kernel counts of representative graphs.
 */
import { afterEach, describe, expect } from 'vitest';
import * as born from '../../src/index.js';
import { CASES } from './parity-cases.js';
import { FUSION } from './parity-fusion.js';
import { kernelCounts, parityIt, printTally, runCase, tolOf } from './parity.js';

afterEach(async () => { await born.setDefaultDevice('cpu'); });
printTally('parity-ops: cases by family');

describe('every op gives the same result on webgpu and cpu', () => {
  for (const c of CASES) {
    const tol = tolOf(c);
    parityIt(`${c.family}: ${c.name} (${tol ? `rtol ${tol}` : 'exact'})`, c.family, () => runCase(c), c.known);
  }
});

describe('fusion: the same kernel count on both devices', () => {
  for (const [name, build, fewer = 0] of FUSION) {
    parityIt(`fusion: ${name}`, 'fusion', async () => {
      const k = kernelCounts(build);
      expect(k.devices).toEqual(['webgpu']);
      expect(k.webgpu, `${name}: ${k.webgpu} kernels on webgpu, ${k.cpu} on cpu`).toBe(k.cpu - fewer);
    });
  }
});
