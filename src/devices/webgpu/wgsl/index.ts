/** Placeholder until the printers land: every kernel is refused with a clear error. */
import type { Kernel } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';

export function printWgsl(k: Kernel, _o: WgslOptions): WgslProgram {
  throw new UnsupportedKernel(`no WGSL printer for ${k.name}`);
}
