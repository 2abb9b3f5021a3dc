/**
 * The WGSL printer of the kernel IR: dispatches each kernel to the printer of its kind.
 */
import type { Kernel } from '../../../kernel/ir.js';
import { printElementwise } from './elementwise.js';
import { printMatmul } from './matmul.js';
import type { WgslOptions, WgslProgram } from './program.js';
import { printReduce } from './reduce.js';
import { printRow } from './row.js';
import { printScatter } from './scatter.js';
import { printWindow } from './window.js';
import { printAttention } from './attention.js';

export function printWgsl(k: Kernel, o: WgslOptions): WgslProgram {
  if (k.extraOutputs?.length && (k.matmul || k.reduce || k.scatter || k.row || k.window || k.attention)) {
    throw new Error(`internal: kernel ${k.name} has extra outputs, which only elementwise kernels may have`);
  }
  if (k.matmul) return printMatmul(k, o);
  if (k.row) return printRow(k, o);
  if (k.window) return printWindow(k, o);
  if (k.attention) return printAttention(k, o);
  if (k.scatter) return printScatter(k, o);
  if (k.reduce) return printReduce(k, o);
  return printElementwise(k, o);
}
