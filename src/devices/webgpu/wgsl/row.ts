/**
 * The WGSL printer of per-row kernels (kernel/ir.ts RowSpec), the twin of cpu-workers/row.ts:
 * inclusive scans and stable argsorts over the last loop dim. A workgroup owns whole rows (one
 * row at a time: workgroup r takes row r), so nothing is shared between workgroups.
 *
 * Scans walk the row in tiles of one element per invocation: a Hillis-Steele scan of the tile in
 * workgroup memory, then the carry of the tiles before it. Integer scans are exact in any order
 * (i32 wraps; narrow dtypes wrap on store, the same residue; int64 on its low word, exact below
 * 2^31). Float cumsum accumulates in double-f32 (a sum and its rounding error, error-free
 * transformations): the CPU accumulates in float64 and rounds once, and a plain f32 scan drifts
 * by about n·2^-24 of the row's magnitude; this one stays within an ulp of the CPU's result plus
 * about 2^-44 of sum |x| (for the same terms: a fused source is computed in f32 here, rounded
 * once from float64 there). cumprod multiplies in f32 (products do not cancel: relative error
 * at most about n·2^-24). Half types round once, on store.
 *
 * Sorts map each value to a u32 order key (float bits made monotone, -0 as 0, every NaN above
 * +Infinity; integers offset by 2^31; descending flips the key) and sort (key, position) pairs,
 * so equal keys keep their order: a bitonic network whose first compare in each merge is the
 * mirrored one, so every compare puts the smaller pair first and positions past the row's end
 * behave as +Infinity and are never touched (any n, no padding). Rows whose pairs fit in
 * workgroup memory sort there. Longer rows sort chunks that fit, one after another, then merge
 * in the output row (which holds the positions): the layers whose partners lie in another chunk
 * compare there, reading both keys from the source again; the rest of each merge runs chunk by
 * chunk in workgroup memory. Correct for any length, slower (one workgroup per row, and
 * O(n log²(n / chunk)) source reads).
 */
import { isFloat as isFloatDtype } from '../../../graph/dtype.js';
import { numel } from '../../../graph/shape.js';
import type { Kernel } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';
import { frameOf, gridOf, unravel, type Frame } from './struct-frame.js';

/** Invocations per workgroup: enough to fill a tile of a long row, fewer for short rows. */
const TILE = 256;

const pow2AtLeast = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The (identity, combine, lift, result) of a scan over a dtype's compute type. */
interface ScanAlgebra { readonly type: string; readonly identity: string; readonly combine: string; lift(v: string): string; result(acc: string): string }

function algebra(op: 'cumsum' | 'cumprod', float: boolean): ScanAlgebra {
  if (!float) {
    return { type: 'i32', identity: op === 'cumsum' ? '0i' : '1i', combine: op === 'cumsum' ? 'a + b' : 'a * b', lift: (v) => `i32(${v})`, result: (a) => a };
  }
  if (op === 'cumprod') return { type: 'f32', identity: '1.0f', combine: 'a * b', lift: (v) => `f32(${v})`, result: (a) => a };
  return { type: 'vec2<f32>', identity: 'vec2<f32>(0.0f, 0.0f)', combine: 'dd_add_(a, b)', lift: (v) => `vec2<f32>(f32(${v}), 0.0f)`, result: (a) => `${a}.x` };
}

/**
 * Double-f32 addition (Dekker/Knuth two-sum, then a renormalising fast two-sum): (hi, lo) pairs
 * whose sum is the exact sum to about 2^-44, every rounding pinned by k_ (struct-frame.ts). A
 * non-finite sum is returned as is (its error terms would be NaN: inf - inf).
 */
const DD_ADD = `fn two_sum_(a: f32, b: f32) -> vec2<f32> {
  let s = k_(a + b);
  let bb = k_(s - a);
  return vec2<f32>(s, k_(k_(a - k_(s - bb)) + k_(b - bb)));
}
fn dd_add_(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = two_sum_(a.x, b.x);
  if ((bitcast<u32>(s.x) & 0x7f800000u) == 0x7f800000u) { return vec2<f32>(s.x, 0.0f); }
  let e = k_(s.y + k_(a.y + b.y));
  let h = k_(s.x + e);
  return vec2<f32>(h, k_(e - k_(h - s.x)));
}`;

function scan(k: Kernel, f: Frame, op: 'cumsum' | 'cumprod', n: number, rows: number, o: WgslOptions): WgslProgram {
  const d = k.out.dtype;
  const float = isFloatDtype(d);
  const A = algebra(op, float);
  const wg = Math.min(TILE, o.maxInvocationsPerWorkgroup, pow2AtLeast(n));
  const grid = gridOf(rows, o);
  const last = k.loop.length - 1;
  const vars = k.loop.map((_, i) => `o${i}`);
  const body = `${A.type === 'vec2<f32>' ? DD_ADD : ''}
fn comb_(a: ${A.type}, b: ${A.type}) -> ${A.type} { return ${A.combine}; }
var<workgroup> part_: array<${A.type}, ${wg}>;
${f.entry(wg)}
  let r = ${grid.linear('wid', 'nwg')};
  if (r >= ${rows}u) { return; }
${unravel(k.loop.slice(0, last), 'r', '  ')}
  var carry: ${A.type} = ${A.identity};
  for (var base = 0u; base < ${n}u; base += ${wg}u) {
    let j = base + t;
    var v: ${A.type} = ${A.identity};
    if (j < ${n}u) { v = ${A.lift(`src_(${[...vars.slice(0, last), 'i32(j)'].join(', ')})`)}; }
    part_[t] = v;
    workgroupBarrier();
    for (var off = 1u; off < ${wg}u; off = off << 1u) {
      var left: ${A.type} = ${A.identity};
      if (t >= off) { left = part_[t - off]; }
      workgroupBarrier();
      v = comb_(left, v);
      part_[t] = v;
      workgroupBarrier();
    }
    if (j < ${n}u) {
      let acc = comb_(carry, v);
      ${f.store(`i32(r) * ${n} + i32(j)`, A.result('acc'))}
    }
    carry = comb_(carry, part_[${wg - 1}]);
    workgroupBarrier();
  }
}`;
  return f.program(body, [f.source(k.value, 'src_', vars)], grid.workgroups);
}

/** The u32 order key of a source value: ascending keys are PyTorch's ascending order. */
function keyFn(k: Kernel, descending: boolean): string {
  const float = isFloatDtype(k.value.dtype);
  const key = float
    ? `var b = bitcast<u32>(f32(x));
  if ((b & 0x7fffffffu) > 0x7f800000u) { b = 0xffffffffu; }
  else if ((b & 0x7fffffffu) == 0u) { b = 0x80000000u; }
  else if (b >= 0x80000000u) { b = ~b; }
  else { b = b | 0x80000000u; }`
    : 'let b = bitcast<u32>(i32(x)) ^ 0x80000000u;';
  return `fn key_(x: ${float ? 'f32' : 'i32'}) -> u32 {
  ${key}
  return ${descending ? '~b' : 'b'};
}`;
}

/** Whether pair (ka, pa) sorts after (kb, pb): by key, then position (stability). */
const AFTER = 'fn after_(ka: u32, pa: u32, kb: u32, pb: u32) -> bool { return ka > kb || (ka == kb && pa > pb); }';

/**
 * One layer of compares over positions i in [0, span) (split over the workgroup), with partner
 * l = the mirror in the block of `kk` on the merge's first layer, else i ^ jj; `step` compares
 * and swaps i and l where i < l < bound.
 */
function layer(span: string, bound: string, wg: number, step: string): string {
  return `      for (var i = t; i < ${span}; i += ${wg}u) {
        let l = select(i ^ jj, i ^ (kk - 1u), jj == kk >> 1u);
        if (l > i && l < ${bound}) {
${step}
        }
      }`;
}

function argsort(k: Kernel, f: Frame, descending: boolean, n: number, rows: number, o: WgslOptions): WgslProgram {
  const last = k.loop.length - 1;
  const vars = k.loop.map((_, i) => `o${i}`);
  const P = pow2AtLeast(n);
  // A chunk: the positions whose (key, position) pairs fit in workgroup memory, a power of two.
  const cap = Math.min(P, 2 ** Math.floor(Math.log2(Math.max(1, o.maxWorkgroupStorageBytes / 8))));
  const wg = Math.min(TILE, o.maxInvocationsPerWorkgroup, Math.max(1, cap / 2));
  const grid = gridOf(rows, o);
  const conv = isFloatDtype(k.value.dtype) ? 'f32' : 'i32';
  const keyAt = (p: string): string => `key_(${conv}(src_(${[...vars.slice(0, last), `i32(${p})`].join(', ')})))`;
  const at = (p: string): string => `row + i32(${p})`;
  const inShared = `          let ki = keys_[i]; let kl = keys_[l]; let pi = pos_[i]; let pl = pos_[l];
          if (after_(ki, pi, kl, pl)) { keys_[i] = kl; keys_[l] = ki; pos_[i] = pl; pos_[l] = pi; }`;
  const inGlobal = `          let pi = u32(${f.load(at('i'))}); let pl = u32(${f.load(at('l'))});
          if (after_(${keyAt('pi')}, pi, ${keyAt('pl')}, pl)) { ${f.store(at('i'), 'i32(pl)')} ${f.store(at('l'), 'i32(pi)')} }`;
  /** Each chunk in turn: its pairs into workgroup memory (from `from`), the layers `layers`, its positions back to the output row. */
  const chunks = (from: (p: string) => string, layers: string): string => `  for (var c0 = 0u; c0 < ${n}u; c0 += ${cap}u) {
    let m = min(${n}u - c0, ${cap}u);
    for (var j = t; j < m; j += ${wg}u) { let p = ${from('c0 + j')}; keys_[j] = ${keyAt('p')}; pos_[j] = p; }
    workgroupBarrier();
${layers}
    for (var j = t; j < m; j += ${wg}u) { ${f.store(at('c0 + j'), 'i32(pos_[j])')} }
    workgroupBarrier();
  }`;
  const body = `${keyFn(k, descending)}
${AFTER}
var<workgroup> keys_: array<u32, ${cap}>;
var<workgroup> pos_: array<u32, ${cap}>;
${f.entry(wg)}
  let r = ${grid.linear('wid', 'nwg')};
  if (r >= ${rows}u) { return; }
${unravel(k.loop.slice(0, last), 'r', '  ')}
  let row = i32(r) * ${n};
  // Every merge of blocks up to a chunk runs inside the chunk.
${chunks((p) => p, `    for (var kk = 2u; kk <= ${cap}u; kk = kk << 1u) {
    for (var jj = kk >> 1u; jj > 0u; jj = jj >> 1u) {
${layer(`${cap}u`, 'm', wg, inShared)}
      workgroupBarrier();
    }
    }`)}
  // Longer merges: layers whose partners lie in other chunks compare in the output row (keys read
  // again from the source), then the chunk-local layers run in workgroup memory again.
  for (var kk = ${2 * cap}u; kk <= ${P}u; kk = kk << 1u) {
    storageBarrier();
    for (var jj = kk >> 1u; jj >= ${cap}u; jj = jj >> 1u) {
${layer(`${P}u`, `${n}u`, wg, inGlobal)}
      storageBarrier();
    }
${chunks((p) => `u32(${f.load(at(p))})`, `    for (var jj = ${cap / 2}u; jj > 0u; jj = jj >> 1u) {
${layer('m', 'm', wg, inShared)}
      workgroupBarrier();
    }`)}
  }
}`;
  return f.program(body, [f.source(k.value, 'src_', vars)], grid.workgroups);
}

export function printRow(k: Kernel, o: WgslOptions): WgslProgram {
  const spec = k.row;
  if (!spec) throw new Error(`internal: kernel ${k.name} is not a per-row kernel`);
  if (k.outIndex || k.extraOutputs?.length) throw new UnsupportedKernel(`webgpu: per-row kernel ${k.name} with a store or extra outputs`);
  const n = spec.n;
  const rows = n === 0 ? 0 : numel(k.loop) / n;
  const f = frameOf(k, o);
  switch (spec.op) {
    case 'cumsum': case 'cumprod': return scan(k, f, spec.op, n, rows, o);
    case 'argsort': case 'argsortDescending': return argsort(k, f, spec.op === 'argsortDescending', n, rows, o);
  }
}
