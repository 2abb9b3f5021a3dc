/**
 * The WGSL printer of scatter-add kernels (kernel/ir.ts ScatterSpec), the twin of
 * cpu-workers/scatter.ts, with the same ownership split: each invocation owns a block of
 * destination rows (the output's dim `axis`) at one coordinate of the other dims. It writes the
 * base into its rows, then scans the index along `axis` at its coordinate — the only index
 * entries that can land on its elements — and adds each term whose target it owns, in the
 * index's order. No two invocations write one element and no float atomics are used, so sums
 * are the CPU's sums in the CPU's order, the same on every run.
 *
 * The number of row blocks is chosen so that about BLOCKS_TARGET invocations run: one block per
 * row where the other dims are few (every invocation then reads the whole index column), fewer
 * and longer blocks where they are many (each index entry is read by fewer invocations), and
 * fewer again where the index is so long that blocks x index would pass SCAN_BUDGET reads. The
 * work is O(blocks x space + output); the sorted segment form (sort by target, an invocation per
 * segment) that would make it O(space log space + output) for huge indices is not written.
 *
 * A target outside [0, out.shape[axis]) is recorded in the error record as check `check` (by the
 * invocations of the first row block, which see every entry) and skipped, as on the CPU.
 */
import { contiguousStrides, numel } from '../../../graph/shape.js';
import type { Kernel } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';
import { computeType } from './storage-wgsl.js';
import { frameOf, gridOf } from './struct-frame.js';

const WG = 64;
const BLOCKS_TARGET = 4096;
/** At most about this many index entries read in all: a long index gets fewer, longer row blocks. */
const SCAN_BUDGET = 2 ** 27;

export function printScatter(k: Kernel, o: WgslOptions): WgslProgram {
  const sc = k.scatter;
  if (!sc) throw new Error(`internal: kernel ${k.name} is not a scatter`);
  if (k.outIndex || k.extraOutputs?.length) throw new UnsupportedKernel(`webgpu: scatter kernel ${k.name} with a store or extra outputs`);
  const f = frameOf(k, o);
  const shape = k.loop, axis = sc.axis, rows = shape[axis]!;
  const strides = contiguousStrides(shape);
  const others = shape.map((d, i) => [d, i] as const).filter(([, i]) => i !== axis);
  const cols = numel(others.map(([d]) => d));
  const scanned = Math.max(1, cols * sc.space[axis]!);
  const blocks = Math.max(1, Math.min(rows, Math.ceil(BLOCKS_TARGET / Math.max(1, cols)), Math.floor(SCAN_BUDGET / scanned)));
  const per = Math.max(1, Math.ceil(rows / blocks));
  const nb = rows === 0 ? 0 : Math.ceil(rows / per);
  const units = nb * cols;
  const grid = gridOf(Math.ceil(units / WG), o);
  const oVars = shape.map((_, i) => `o${i}`);
  const sVars = sc.space.map((_, i) => `s${i}`);
  // The other coordinates, row-major from the column c (the fastest, so neighbours are neighbours in memory).
  const unravel = ['  var t_ = c;'];
  for (let j = others.length - 1; j >= 0; j--) {
    const [d, i] = others[j]!;
    unravel.push(j === 0 ? `  let o${i} = t_;` : `  let o${i} = t_ % ${d}; t_ = t_ / ${d};`);
  }
  const flat = (row: string): string => shape.map((_, i) => `${i === axis ? row : `o${i}`} * ${strides[i]}`).join(' + ') || '0';
  const inSpace = others.filter(([, i]) => sc.space[i]! < shape[i]!).map(([, i]) => `o${i} < ${sc.space[i]}`);
  const sArgs = sc.space.map((_, i) => (i === axis ? 'sa' : sc.space[i] === 1 ? '0' : `o${i}`));
  const bindAt = (row: string): string => oVars.map((v, i) => (i === axis ? row : v)).join(', ');
  const dt = k.out.dtype;
  // Each float add rounded where it is written (k_), so no compiler regroups a row's terms.
  const pin = (e: string): string => (computeType(dt) === 'f32' ? `k_(${e})` : e);
  const body = `
${f.entry(WG)}
  let eu = (${grid.linear('wid', 'nwg')}) * ${WG}u + t;
  if (eu >= ${units}u) { return; }
  let c = i32(eu % ${Math.max(1, cols)}u);
  let blk = i32(eu / ${Math.max(1, cols)}u);
${unravel.join('\n')}
  let r0 = blk * ${per};
  let r1 = min(r0 + ${per}, ${rows});
  for (var rr = r0; rr < r1; rr++) {
    ${f.store(flat('rr'), `base_(${bindAt('rr')})`)}
  }
  if (${inSpace.length ? inSpace.join(' && ') : 'true'}) {
    for (var sa = 0; sa < ${sc.space[axis]}; sa++) {
      let tt = i32(target_(${sArgs.join(', ')}));
      if (tt < 0 || tt >= ${rows}) {
        if (blk == 0) { ${f.report(sc.check, 'tt')} }
        continue;
      }
      if (tt < r0 || tt >= r1) { continue; }
      let at = ${flat('tt')};
      ${f.store('at', pin(`${f.load('at')} + ${f.cast(`src_(${sArgs.join(', ')})`, sc.src.dtype, dt)}`))}
    }
  }
}`;
  return f.program(body, [
    f.source(k.value, 'base_', oVars),
    f.source(sc.target, 'target_', sVars),
    f.source(sc.src, 'src_', sVars),
  ], grid.workgroups);
}
