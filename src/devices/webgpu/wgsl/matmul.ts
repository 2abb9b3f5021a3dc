import type { Kernel } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';

export function printMatmul(k: Kernel, _o: WgslOptions): WgslProgram { throw new UnsupportedKernel(`webgpu: the WGSL matmul printer is not written yet (kernel ${k.name})`); }
