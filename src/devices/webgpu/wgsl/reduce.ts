import type { Kernel } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';

export function printReduce(k: Kernel, _o: WgslOptions): WgslProgram { throw new UnsupportedKernel(`webgpu: reduction ${k.name}`); }
