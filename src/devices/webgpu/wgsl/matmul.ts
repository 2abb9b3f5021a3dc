/**
 * The WGSL printer of matmul kernels (Kernel.matmul): out[bt, m, n] = value(acc = Σ_k A[bt, m, k]·B[bt, k, n]).
 *
 * Each workgroup computes a BM x BN tile of one batch item: per step of BK along k, its
 * invocations copy the A and B tiles into workgroup memory together (bounds-checked, so any M, N
 * and K work), then each invocation accumulates a TM x TN register tile from them. Large
 * register tiles matter more than anything else: on lavapipe a 16x16 tile of one output per
 * invocation runs at 0.45 GFLOP/s, while a 128x128 tile of many outputs per invocation runs
 * more than ten times faster, and on real GPUs the same shape keeps the arithmetic ahead of the
 * workgroup-memory traffic. The tile shape is chosen per matmul shape (chooseTile): a batch-1
 * inference row (M = 1) wants a wide, one-row tile rather than 128 rows of padding.
 *
 * Operands are strided views (transposes are strides); the copy walks the tile along whichever
 * of the operand's axes is contiguous, so neighbouring invocations read neighbouring words.
 * Registers hold columns in vec4 groups: invocation tx owns groups tx, tx + WX, ..., so the
 * workgroup-memory reads of one k step are consecutive across invocations.
 */
import type { DType } from '../../../graph/dtype.js';
import type { Kernel, MatmulOperand } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslPrinter, type WgslProgram } from './program.js';

/** A workgroup of wx x wy invocations, each computing tm rows by tn columns (tn a multiple of 4); bk is the k step. */
export interface MatmulTile { readonly wx: number; readonly wy: number; readonly tm: number; readonly tn: number; readonly bk: number }

type MatmulShape = NonNullable<Kernel['matmul']>;

const pow2AtLeast = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The tile for a shape: the largest register tile the output fills, within the device's limits. */
export function chooseTile(mm: Pick<MatmulShape, 'M' | 'N' | 'K'>, o: Pick<WgslOptions, 'maxInvocationsPerWorkgroup' | 'maxWorkgroupStorageBytes'>): MatmulTile {
  const { M, N } = mm;
  let t: MatmulTile;
  if (M <= 4) {
    // A few rows (batch-1 inference): one row of invocations, each owning 4 columns of every row.
    t = { wx: Math.min(64, Math.max(4, pow2AtLeast(Math.ceil(N / 4)))), wy: 1, tm: M, tn: 4, bk: 16 };
  } else if (M >= 128 && N >= 128) {
    t = { wx: 8, wy: 8, tm: 16, tn: 16, bk: 8 };
  } else if (M >= 64 && N >= 64) {
    t = { wx: 8, wy: 8, tm: 8, tn: 8, bk: 8 };
  } else {
    t = { wx: Math.min(16, Math.max(2, pow2AtLeast(Math.ceil(N / 4)))), wy: Math.min(16, pow2AtLeast(Math.ceil(M / 4))), tm: 4, tn: 4, bk: 16 };
  }
  const fits = (x: MatmulTile): boolean => x.wx * x.wy <= o.maxInvocationsPerWorkgroup && x.bk * (x.wy * x.tm + x.wx * x.tn) * 4 <= o.maxWorkgroupStorageBytes;
  while (!fits(t) && t.bk > 1) t = { ...t, bk: t.bk / 2 };
  if (!fits(t)) t = { wx: 8, wy: 8, tm: 4, tn: 4, bk: 4 };
  return t;
}

/** A WGSL f32 expression of one element word of a buffer of `dtype` (storage.ts's layout). */
export function wordAsF32(dtype: DType, word: string): string {
  switch (dtype) {
    case 'float32': return word;
    case 'float16': return `unpack2x16float(${word}).x`;
    case 'bfloat16': return `bitcast<f32>(${word} << 16u)`;
    case 'int32': case 'int16': case 'int8': return `f32(${word})`;
    case 'uint8': case 'bool': return `f32(${word})`;
    default: throw new UnsupportedKernel(`matmul operand of dtype ${dtype}`);
  }
}

/** The WGSL element type a binding of `dtype` is declared with. */
export function wordType(dtype: DType): string {
  switch (dtype) {
    case 'float32': return 'f32';
    case 'int32': case 'int16': case 'int8': return 'i32';
    case 'float16': case 'bfloat16': case 'uint8': case 'bool': return 'u32';
    default: throw new UnsupportedKernel(`matmul operand of dtype ${dtype}`);
  }
}

/** How one kernel's scalars become WGSL: the part of the printer that the epilogue and prologues need. */
export interface MatmulScalars {
  /** Declarations after the bindings (helper functions). */
  readonly decls: string;
  /** The operand's element from `x` (an f32 read at its strides), or null for none. */
  prologue(op: MatmulOperand, x: string): string | null;
  /** Statements ending in the output element's word to store, from `acc` (f32) and `o0..` (i32 lets in scope). */
  epilogue(acc: string): { readonly lines: readonly string[]; readonly word: string };
}

/** The identity epilogue and no prologues: the only ones this printer handles without the scalar printer. */
export function plainScalars(k: Kernel): MatmulScalars {
  const mm = k.matmul!;
  if (k.value.k !== 'acc' || mm.a.prologue || mm.b.prologue || k.params.length || k.indexChecks?.length) {
    throw new UnsupportedKernel(`matmul kernel ${k.name}: epilogue or prologue needs the scalar printer`);
  }
  if (k.out.dtype !== 'float32') throw new UnsupportedKernel(`matmul kernel ${k.name}: output dtype ${k.out.dtype}`);
  return { decls: '', prologue: () => null, epilogue: (acc) => ({ lines: [], word: acc }) };
}

const f = (n: number): string => `${n}`;

/** The program for `k` with tile `t` (tests and benchmarks force tiles; printMatmul chooses). */
export function printMatmulWith(k: Kernel, o: WgslOptions, t: MatmulTile, scalars: MatmulScalars = plainScalars(k)): WgslProgram {
  const mm = k.matmul;
  if (!mm) throw new UnsupportedKernel(`kernel ${k.name} is not a matmul`);
  if (k.outIndex) throw new UnsupportedKernel(`matmul kernel ${k.name} with an output index`);
  if (t.tn % 4 !== 0) throw new Error(`internal: matmul tile tn=${t.tn} is not a multiple of 4`);
  const { M, N, K, batch } = mm;
  const { wx, wy, tm, tn, bk } = t;
  const BM = wy * tm, BN = wx * tn, NT = wx * wy, TN4 = tn / 4;
  const tilesN = Math.ceil(N / BN), tilesM = Math.ceil(M / BM);
  const maxDim = o.maxWorkgroupsPerDimension;
  if (tilesN > maxDim) throw new UnsupportedKernel(`matmul kernel ${k.name}: ${tilesN} column tiles exceed ${maxDim} workgroups`);
  // Rows of tiles and batch items share y and z when either is too many for its dimension.
  const folded = tilesM > maxDim || batch > maxDim;
  const yz = tilesM * batch;
  const gy = folded ? Math.min(yz, maxDim) : tilesM, gz = folded ? Math.ceil(yz / gy) : batch;

  const nSlots = k.inputs.length + 1 + (k.indexChecks?.length ? 1 : 0);
  const slots = Array.from({ length: nSlots }, (_, s) => s);
  const lines: string[] = [];
  lines.push(`@group(0) @binding(0) var<storage, read_write> out: array<${wordType(k.out.dtype)}>;`);
  k.inputs.forEach((d, i) => lines.push(`@group(0) @binding(${i + 1}) var<storage, read> b${i + 1}: array<${wordType(d)}>;`));
  if (k.indexChecks?.length) lines.push(`@group(0) @binding(${nSlots - 1}) var<storage, read_write> errs: array<atomic<i32>>;`);
  const uniformWords = k.params.length;
  if (uniformWords) lines.push(`@group(0) @binding(${nSlots}) var<uniform> u: array<vec4<u32>, ${Math.ceil(uniformWords / 4)}>;`);
  lines.push(scalars.decls);

  // A[bt, m, k] and B[bt, k, n] as f32, zero outside the matrix (the padding of edge tiles).
  const operandFn = (name: string, op: MatmulOperand, rows: number, cols: number): string => {
    const dtype = k.inputs[op.input - 1]!;
    const x = wordAsF32(dtype, `b${op.input}[${op.offset} + bt * ${op.sBatch} + r * ${op.sRow} + c * ${op.sCol}]`);
    const pro = scalars.prologue(op, 'x');
    return [
      `fn ${name}(bt: i32, r: i32, c: i32) -> f32 {`,
      `  if (r >= ${rows} || c >= ${cols}) { return 0.0; }`,
      `  let x = ${x};`,
      `  return ${pro ?? 'x'};`,
      '}',
    ].join('\n');
  };
  lines.push(operandFn('readA', mm.a, M, K), operandFn('readB', mm.b, K, N));

  const aVec = tm % 4 === 0;
  lines.push(`var<workgroup> As: array<${aVec ? 'vec4<f32>' : 'f32'}, ${(bk * BM) / (aVec ? 4 : 1)}>;`);
  lines.push(`var<workgroup> Bs: array<vec4<f32>, ${(bk * BN) / 4}>;`);

  const body: string[] = [];
  body.push('let tx = i32(lid.x); let ty = i32(lid.y); let tid = i32(li);');
  body.push(`let n0 = i32(wid.x) * ${BN};`);
  if (folded) {
    body.push(`let lin = i32(wid.y + wid.z * ${gy}u);`, `if (lin >= ${yz}) { return; }`);
    body.push(`let m0 = (lin % ${tilesM}) * ${BM}; let bt = lin / ${tilesM};`);
  } else {
    body.push(`let m0 = i32(wid.y) * ${BM}; let bt = i32(wid.z);`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN4; j++) body.push(`var c${i}_${j} = vec4<f32>(0.0);`);

  // The copy of one tile: element e of the tile, walked along the operand's contiguous axis.
  const copy = (what: 'A' | 'B'): string[] => {
    const op = what === 'A' ? mm.a : mm.b;
    // A tile: BM rows (m) x bk columns (k); B tile: bk rows (k) x BN columns (n).
    const rows = what === 'A' ? BM : bk, cols = what === 'A' ? bk : BN;
    const alongRows = op.sRow === 1 && op.sCol !== 1;
    const total = rows * cols, per = Math.ceil(total / NT);
    const out: string[] = [];
    for (let i = 0; i < per; i++) {
      const e = `(tid + ${i * NT})`;
      const [r, c] = alongRows ? [`${e} % ${rows}`, `${e} / ${rows}`] : [`${e} / ${cols}`, `${e} % ${cols}`];
      const guard = (i + 1) * NT > total ? `if (${e} < ${total}) ` : '';
      // Both tiles are stored k-major: As[k][m], Bs[k][n].
      let store: string;
      if (what === 'A') {
        const v = `readA(bt, m0 + r, k0 + c)`;
        store = aVec ? `As[(c * ${BM} + r) / 4][(c * ${BM} + r) % 4] = ${v};` : `As[c * ${BM} + r] = ${v};`;
      } else {
        store = `Bs[(r * ${BN} + c) / 4][(r * ${BN} + c) % 4] = readB(bt, k0 + r, n0 + c);`;
      }
      out.push(`${guard}{ let r = ${r}; let c = ${c}; ${store} }`);
    }
    return out;
  };

  body.push(`for (var k0 = 0; k0 < ${K}; k0 += ${bk}) {`);
  body.push(...copy('A').map((l) => '  ' + l), ...copy('B').map((l) => '  ' + l));
  body.push('  workgroupBarrier();');
  // The k steps unrolled: every workgroup-memory index is a constant offset from the invocation's base.
  body.push(`  let aBase = ty * ${aVec ? tm / 4 : tm}; let bBase = tx;`);
  for (let kk = 0; kk < bk; kk++) {
    body.push('  {');
    if (aVec) {
      for (let i4 = 0; i4 < tm / 4; i4++) body.push(`    let a${i4} = As[aBase + ${kk * (BM / 4) + i4}];`);
    } else {
      for (let i = 0; i < tm; i++) body.push(`    let a${i} = As[aBase + ${kk * BM + i}];`);
    }
    for (let j = 0; j < TN4; j++) body.push(`    let w${j} = Bs[bBase + ${kk * (BN / 4) + j * wx}];`);
    for (let i = 0; i < tm; i++) {
      const a = aVec ? `a${Math.floor(i / 4)}[${i % 4}]` : `a${i}`;
      for (let j = 0; j < TN4; j++) body.push(`    c${i}_${j} = fma(vec4<f32>(${a}), w${j}, c${i}_${j});`);
    }
    body.push('  }');
  }
  body.push('  workgroupBarrier();', '}');

  // The epilogue at each output element: the coordinates o0.. of the output's loop.
  const coordLines = outputCoords(k);
  for (let i = 0; i < tm; i++) {
    body.push(`{ let m = m0 + ty * ${tm} + ${i};`, `  if (m < ${M}) {`);
    for (let j = 0; j < TN4; j++) {
      for (let l = 0; l < 4; l++) {
        body.push(`    { let n = n0 + (${j * wx} + tx) * 4 + ${l}; if (n < ${N}) {`);
        const epi = scalars.epilogue(`c${i}_${j}[${l}]`);
        body.push(`      let flat = (bt * ${M} + m) * ${N} + n;`, ...coordLines.map((c) => '      ' + c), ...epi.lines.map((c) => '      ' + c));
        body.push(`      out[flat] = ${epi.word};`, '    } }');
      }
    }
    body.push('  }', '}');
  }

  lines.push(
    `@compute @workgroup_size(${wx}, ${wy}, 1)`,
    'fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {',
    ...body.map((l) => '  ' + l),
    '}',
  );
  return { code: lines.join('\n'), entry: 'main', workgroups: [tilesN, gy, gz], slots, uniformWords };
}

/**
 * `let oI = ...;` for each coordinate of the output's loop the epilogue may read, from bt, m, n
 * and the flat index: where the loop ends in [M, N], the last two are the row and the column.
 */
export function outputCoords(k: Kernel): string[] {
  const mm = k.matmul!;
  const L = k.loop.length;
  const out: string[] = [];
  const endsMN = L >= 2 && k.loop[L - 1] === mm.N && k.loop[L - 2] === mm.M;
  const lead = endsMN ? L - 2 : L;
  const src = endsMN ? 'bt' : 'flat';
  let stride = 1;
  const strides: number[] = [];
  for (let i = lead - 1; i >= 0; i--) { strides[i] = stride; stride *= k.loop[i]!; }
  for (let i = 0; i < lead; i++) out.push(`let o${i} = (${src} / ${f(strides[i]!)}) % ${f(k.loop[i]!)};`);
  if (endsMN) out.push(`let o${L - 2} = m;`, `let o${L - 1} = n;`);
  return out;
}

export const printMatmul: WgslPrinter = (k, o) => printMatmulWith(k, o, chooseTile(k.matmul ?? { M: 1, N: 1, K: 1 }, o));
