// For the SIMD kernel suites: forces SIMD printing for the file and records every kernel the CPU
// device compiles, so tests can look at the IR of what ran.
import { afterAll, beforeAll } from 'vitest';
import { CpuDevice } from '../../src/devices/cpu-workers/device.js';
import { setSimdFma, setSimdMode } from '../../src/devices/cpu-workers/simd/index.js';
import type { Kernel } from '../../src/kernel/ir.js';

/** The kernels compiled while the calling file's tests run, in order; SIMD mode 'always' meanwhile. */
export function recordSimdKernels(): Kernel[] {
  const kernels: Kernel[] = [];
  const compile = CpuDevice.prototype.compile;
  beforeAll(() => {
    setSimdMode('always');
    CpuDevice.prototype.compile = function (k: Kernel) {
      kernels.push(k);
      return compile.call(this, k);
    };
  });
  afterAll(() => {
    CpuDevice.prototype.compile = compile;
    setSimdMode('auto');
    setSimdFma(true);
  });
  return kernels;
}
