/**
 * The WGSL printer of fused attention kernels (kernel/ir.ts AttentionSpec), the twin of
 * cpu-workers/attention.ts: one invocation per query row walks the row's visible keys with a
 * running maximum m, sum l and output accumulator o (flash attention's online softmax), so the
 * [L, S] scores are never written. The row's scaled query and its accumulator live in private
 * arrays of E and Ev floats.
 *
 * Infinities are kept out of the arithmetic (drivers may assume finite math): m starts at a
 * large finite negative number, a hidden key is skipped rather than given -Infinity, and an
 * additive mask value at or below -3e38 hides its key. A row with no visible key is NaN, as on
 * the CPU.
 */
import type { Kernel } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';
import { frameOf, gridOf } from './struct-frame.js';

const WG = 64;

/** The variables an attention source may read, in the order every source function takes them. */
const VARS = ['ab', 'ai', 'aj', 'ad', 'ae'] as const;
const call = (name: string, v: Partial<Record<(typeof VARS)[number], string>>): string =>
  `${name}(${VARS.map((x) => v[x] ?? '0').join(', ')})`;

/** Private arrays of a size WGSL refuses (0) become one element. */
const size = (n: number): number => Math.max(1, n);

export function printAttention(k: Kernel, o: WgslOptions): WgslProgram {
  const a = k.attention;
  if (!a) throw new Error(`internal: kernel ${k.name} is not an attention kernel`);
  if (k.outIndex || k.extraOutputs?.length) throw new UnsupportedKernel(`webgpu: attention kernel ${k.name} with a store or extra outputs`);
  if (k.out.dtype !== 'float32') throw new UnsupportedKernel(`webgpu: attention kernel ${k.name} of dtype ${k.out.dtype}`);
  const { batch, L, S, E, Ev } = a;
  const f = frameOf(k, o);
  const rows = batch * L;
  const grid = gridOf(Math.ceil(rows / WG), o);
  const sources = [
    f.source(a.q, 'aq_', VARS), f.source(a.k, 'ak_', VARS), f.source(a.v, 'av_', VARS),
    ...(a.mask ? [f.source(a.mask.value, 'am_', VARS)] : []),
    ...(a.kvLength ? [f.source(a.kvLength, 'an_', VARS)] : []),
  ];
  const at = { ab: 'ab', ai: 'ai', aj: 'aj' };
  const hide = !a.mask ? ''
    : a.mask.kind === 'bool' ? `    if (${call('am_', at)} == 0u) { continue; }\n`
      : `    let mv = f32(${call('am_', at)});\n    if (mv <= -3.0e38f) { continue; }\n    s = s + mv;\n`;
  const len = a.kvLength ? `clamp(${call('an_', {})}, 0, ${S})` : `${S}`;
  const body = `${f.entry(WG)}
  let eu = (${grid.linear('wid', 'nwg')}) * ${WG}u + t;
  if (eu >= ${rows}u) { return; }
  let row = i32(eu);
  let ab = row / ${L};
  let ai = row % ${L};
  let len = ${len};
  let off = ${a.kvLength ? `len - ${L}` : '0'};
  let jend = ${a.causal ? 'clamp(ai + off + 1, 0, len)' : 'len'};
  var qv: array<f32, ${size(E)}>;
  var acc: array<f32, ${size(Ev)}>;
  for (var ad = 0; ad < ${E}; ad++) { qv[ad] = f32(${call('aq_', { ab: 'ab', ai: 'ai', ad: 'ad' })}) * ${a.scale}f; }
  var m = -3.0e38f;
  var l = 0.0f;
  for (var aj = 0; aj < jend; aj++) {
    var s = 0.0f;
    for (var ad = 0; ad < ${E}; ad++) { s = s + qv[ad] * f32(${call('ak_', { ab: 'ab', aj: 'aj', ad: 'ad' })}); }
${hide}    if (s > m) {
      let r = exp(m - s);
      l = l * r;
      for (var ae = 0; ae < ${Ev}; ae++) { acc[ae] = acc[ae] * r; }
      m = s;
    }
    let p = exp(s - m);
    l = l + p;
    for (var ae = 0; ae < ${Ev}; ae++) { acc[ae] = acc[ae] + p * f32(${call('av_', { ab: 'ab', aj: 'aj', ae: 'ae' })}); }
  }
  let nan = 0x7fc00000u; // a runtime value: a constant bitcast to NaN is a WGSL error
  for (var ae = 0; ae < ${Ev}; ae++) {
    var y = bitcast<f32>(nan);
    if (l > 0.0f) { y = acc[ae] / l; }
    ${f.store(`row * ${Ev} + ae`, 'y')}
  }
}`;
  return f.program(body, sources, grid.workgroups);
}
