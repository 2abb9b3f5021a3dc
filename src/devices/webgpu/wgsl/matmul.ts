/**
 * The WGSL printer of matmul kernels (Kernel.matmul): out[bt, m, n] = value(acc = Σ_k A[bt, m, k]·B[bt, k, n]).
 *
 * Each workgroup computes a BM x BN tile of one batch item: per step of BK along k, its
 * invocations copy the A and B tiles into workgroup memory together (bounds-checked, so any M, N
 * and K work), then each invocation accumulates a TM x TN register tile from them. Large
 * register tiles matter more than anything else: on lavapipe a 16x16 tile of one output per
 * invocation runs at 0.45 GFLOP/s and a 128x128 tile of 16x16 outputs per invocation more than
 * ten times faster; on real GPUs the same shape keeps the arithmetic ahead of the
 * workgroup-memory traffic. The tile is chosen per matmul shape (chooseTile): a batch-1
 * inference row (M = 1) wants a wide one-row tile, not 128 rows of padding.
 *
 * Operands are strided views (a transpose is strides). The copy walks each tile along the
 * operand's contiguous axis, so neighbouring invocations read neighbouring words, four at a time
 * (vec4) where the strides and the extent of that axis allow. Registers hold columns in vec4
 * groups: invocation tx owns groups tx, tx + WX, ..., so one k step's workgroup-memory reads are
 * consecutive across invocations. Prologues apply to each element as it is copied; the epilogue
 * (Kernel.value over `acc` and o0..) to each output as it is stored. A window operand (implicit
 * GEMM: a convolution's patches, never written) is copied element by element from the image,
 * its padding masked to zero.
 */
import { isFloat, type DType } from '../../../graph/dtype.js';
import { partsOf, type Kernel, type MatmulOperand, type QuantOperand, type Scalar, type WindowOperand } from '../../../kernel/ir.js';
import { QUANT_FORMATS, quantRowBytes } from '../../../kernel/quant.js';
import { assemble, frame, indent, PARAMS, unravel, type Frame } from './frame.js';
import { UnsupportedKernel, type WgslOptions, type WgslPrinter, type WgslProgram } from './program.js';
import { WgslScalarPrinter } from './scalar.js';
import { perWord } from '../storage.js';
import { castWgsl, computeType, loadExpr, storeStmt, uniformDecl } from './storage-wgsl.js';

/** A workgroup of wx x wy invocations, each computing tm rows by tn columns (tn a multiple of 4); bk is the k step. */
export interface MatmulTile { readonly wx: number; readonly wy: number; readonly tm: number; readonly tn: number; readonly bk: number }

type MatmulShape = NonNullable<Kernel['matmul']>;
type Limits = Pick<WgslOptions, 'maxInvocationsPerWorkgroup' | 'maxWorkgroupStorageBytes'>;

const pow2AtLeast = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** The tile for a shape: the largest register tile the output fills, within the device's limits. */
export function chooseTile(mm: Pick<MatmulShape, 'M' | 'N' | 'K'>, o: Limits): MatmulTile {
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

/** The input slots `s` reads through loads (the epilogue's bias, a residual). */
function loadedSlots(s: Scalar, into = new Set<number>()): Set<number> {
  if (s.k === 'load') into.add(s.input);
  const walkIndex = (i: Parameters<typeof partsOf>[0]): void => {
    const p = partsOf(i);
    p.scalars.forEach((x) => loadedSlots(x, into));
    p.indices.forEach((x) => walkIndex({ index: x }));
  };
  walkIndex({ scalar: s });
  return into;
}

/** How one operand's tile is copied: along its contiguous axis, by vec4 where that is whole groups of 4 aligned words. */
interface Copy { readonly along: 'row' | 'col'; readonly vec: boolean }

function copyPlan(op: MatmulOperand, rows: number, cols: number, tileRows: number, tileCols: number, vecOk: boolean): Copy {
  const along = op.sRow === 1 && op.sCol !== 1 ? 'row' : 'col';
  const [extent, tile, other] = along === 'col' ? [cols, tileCols, op.sRow] : [rows, tileRows, op.sCol];
  const unit = along === 'col' ? op.sCol : op.sRow;
  const vec = vecOk && unit === 1 && extent % 4 === 0 && tile % 4 === 0 && other % 4 === 0 && op.sBatch % 4 === 0 && op.offset % 4 === 0;
  return { along, vec };
}

/**
 * For patch index `v` of a window operand (kernel/ir.ts WindowOperand): statements naming its
 * coordinates, whether it lies inside the image (bounds that cannot fail are left out) and the
 * index of the image element it reads.
 */
function windowRead(wo: WindowOperand, v: string): { lets: string; valid: string; at: string } {
  const { N, geom: g } = wo;
  const kk = g.kh * g.kw, plane = g.Ho * g.Wo, P = N * plane;
  const lets = [
    `let pv_ = ${v};`, `let pt_ = (pv_ / ${P}) % ${kk};`, `let pn_ = (pv_ / ${plane}) % ${N};`,
    `let ph_ = ((pv_ / ${g.Wo}) % ${g.Ho}) * ${g.sh} + (pt_ / ${g.kw}) * ${g.dh} - ${g.ph};`,
    `let pw_ = (pv_ % ${g.Wo}) * ${g.sw} + (pt_ % ${g.kw}) * ${g.dw} - ${g.pw};`,
  ].join(' ');
  const bounds: string[] = [];
  const axis = (name: string, pad: number, last: number, size: number): void => {
    if (pad > 0) bounds.push(`${name} >= 0`);
    if (last - pad >= size) bounds.push(`${name} < ${size}`);
  };
  axis('ph_', g.ph, (g.Ho - 1) * g.sh + (g.kh - 1) * g.dh, g.H);
  axis('pw_', g.pw, (g.Wo - 1) * g.sw + (g.kw - 1) * g.dw, g.W);
  const at = `${wo.offset} + pn_ * ${wo.sN} + (pv_ / ${P * kk}) * ${wo.sC} + ph_ * ${wo.sH} + pw_ * ${wo.sW}`;
  return { lets, valid: bounds.join(' && ') || 'true', at };
}

/**
 * `fn name(e: i32) -> f32`: element e (row-major) of the packed matrix in `buf` (kernel/quant.ts),
 * its block's f16 scale times its quant, read byte by byte from the u32 words.
 */
function quantRead(name: string, buf: string, q: QuantOperand): string[] {
  const { blockBytes } = QUANT_FORMATS[q.format];
  const byte = (i: string): string => loadExpr(buf, i, 'uint8');
  const half = (i: string): string => `unpack2x16float(u32(${byte(i)}) | (u32(${byte(`${i} + 1`)}) << 8u)).x`;
  const head = [`fn ${name}(e: i32) -> f32 {`, `  let r = e / ${q.cols}; let c = e - r * ${q.cols}; let j = c & 31;`];
  if (q.format === 'q4_K') {
    // ggml's get_scale_min_k4 for sub-block `sub`, then d · scale · q - dmin · min.
    return [...head,
      `  let p = ${q.byteOffset} + r * ${quantRowBytes(q.format, q.cols)} + (c >> 8u) * ${blockBytes}; let sub = (c >> 5u) & 7; let s = p + 4;`,
      '  var sc: i32; var mn: i32;',
      `  if (sub < 4) { sc = ${byte('s + sub')} & 63; mn = ${byte('s + sub + 4')} & 63; }`,
      `  else { sc = (${byte('s + sub + 4')} & 15) | ((${byte('s + sub - 4')} >> 6u) << 4u); mn = (${byte('s + sub + 4')} >> 4u) | ((${byte('s + sub')} >> 6u) << 4u); }`,
      `  let v = ${byte('p + 16 + (sub >> 1u) * 32 + j')};`,
      '  let n = select(v & 15, v >> 4u, (sub & 1) == 1);',
      `  return ${half('p')} * f32(sc) * f32(n) - ${half('p + 2')} * f32(mn);`,
      '}'];
  }
  const quant = q.format === 'q8_0'
    ? [`  let q = ${loadExpr(buf, 'p + 2 + j', 'int8')};`]
    : [`  let v = ${byte('p + 2 + (j & 15)')};`, '  let q = select(v & 15, v >> 4u, j >= 16) - 8;'];
  return [...head,
    `  let p = ${q.byteOffset} + r * ${quantRowBytes(q.format, q.cols)} + (c >> 5u) * ${blockBytes};`,
    ...quant,
    `  return ${half('p')} * f32(q);`,
    '}',
  ];
}

/** The program for `k` with tile `t` (tests and benchmarks force tiles; printMatmul chooses). */
export function printMatmulWith(k: Kernel, o: WgslOptions, t: MatmulTile): WgslProgram {
  const mm = k.matmul;
  if (!mm) throw new UnsupportedKernel(`kernel ${k.name} is not a matmul`);
  if (k.outIndex) throw new UnsupportedKernel(`matmul kernel ${k.name} with an output index`);
  if (t.tn % 4 !== 0) throw new Error(`internal: matmul tile tn=${t.tn} is not a multiple of 4`);
  for (const op of [mm.a, mm.b]) {
    if (op.quant) continue; // packed bytes, dequantised to f32 as they are read
    const d = op.prologue?.dtype ?? k.inputs[op.input - 1]!;
    if (!isFloat(d) || d === 'float64') throw new UnsupportedKernel(`matmul kernel ${k.name}: operand dtype ${d} on webgpu`);
  }
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

  const f = frame(k, o);
  // A slot read only as one operand may be declared as vec4 words; one the epilogue or the other operand reads stays u32.
  const epilogueReads = loadedSlots(k.value);
  // Packed operands (several elements to a word) are read element by element.
  const vecOk = (op: MatmulOperand, other: MatmulOperand): boolean =>
    !op.window && !op.quant && !epilogueReads.has(op.input) && f.buf(op.input) !== f.buf(other.input) && perWord(k.inputs[op.input - 1]!) === 1;
  const aCopy = copyPlan(mm.a, M, K, BM, bk, vecOk(mm.a, mm.b));
  const bCopy = copyPlan(mm.b, K, N, bk, BN, vecOk(mm.b, mm.a));
  const decls = f.decls.map((d) => {
    for (const [op, c] of [[mm.a, aCopy], [mm.b, bCopy]] as const) {
      if (c.vec) d = d.replace(`var<storage, read> ${f.buf(op.input)}: array<u32>;`, `var<storage, read> ${f.buf(op.input)}: array<vec4<u32>>;`);
    }
    return d;
  });
  // K also comes as a uniform word after the runtime scalars: with a constant trip count LLVM
  // (lavapipe) unrolls short k loops of a large register tile and takes minutes to compile them.
  const kWord = k.params.length;
  const fr: Frame = { ...f, decls: [...decls.filter((d) => !d.includes('var<uniform>')), uniformDecl(f.slots.length, PARAMS, kWord + 1)], uniformWords: kWord + 1 };

  const globals: string[] = [];
  let indexCheck = false;
  const printer = (prefix: string): WgslScalarPrinter => new WgslScalarPrinter({ buf: f.buf, err: f.err, prefix, params: PARAMS });

  // The operand's element as f32, from its stored word's compute value: the prologue, if any, applied.
  const elementFn = (name: string, op: MatmulOperand): void => {
    const leaf = k.inputs[op.input - 1]!;
    const ct = computeType(leaf);
    if (!op.prologue) { globals.push(`fn ${name}(acc: ${ct}) -> f32 { return ${castWgsl('acc', leaf, 'float32')}; }`); return; }
    const p = printer(`${name}_`);
    const v = p.print(op.prologue);
    indexCheck ||= p.usesIndexCheck;
    globals.push(`fn ${name}(acc: ${ct}) -> f32 {`, ...indent(p.lines), `  return ${castWgsl(v, op.prologue.dtype, 'float32')};`, '}');
  };
  elementFn('elA_', mm.a);
  elementFn('elB_', mm.b);
  if (mm.a.quant) globals.push(...quantRead('qA_', f.buf(mm.a.input), mm.a.quant));
  if (mm.b.quant) globals.push(...quantRead('qB_', f.buf(mm.b.input), mm.b.quant));

  const aVec = tm % 4 === 0;
  globals.push(`var<workgroup> As: array<${aVec ? 'vec4<f32>' : 'f32'}, ${(bk * BM) / (aVec ? 4 : 1)}>;`);
  globals.push(`var<workgroup> Bs: array<vec4<f32>, ${(bk * BN) / 4}>;`);

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

  // Both tiles are held k-major: As[k][m] (BM per k), Bs[k][n] (BN per k).
  const setTile = (what: 'A' | 'B', kk: string, mn: string, v: string): string => {
    if (what === 'A') return aVec ? `As[(${kk} * ${BM} + ${mn}) / 4][(${kk} * ${BM} + ${mn}) % 4] = ${v};` : `As[${kk} * ${BM} + ${mn}] = ${v};`;
    return `Bs[(${kk} * ${BN} + ${mn}) / 4][(${kk} * ${BN} + ${mn}) % 4] = ${v};`;
  };
  const copyLines = (what: 'A' | 'B'): string[] => {
    const op = what === 'A' ? mm.a : mm.b, c = what === 'A' ? aCopy : bCopy;
    const buf = f.buf(op.input), leaf = k.inputs[op.input - 1]!, el = what === 'A' ? 'elA_' : 'elB_';
    const [rows, cols] = what === 'A' ? [BM, bk] : [bk, BN];
    const [r0, c0] = what === 'A' ? ['m0', 'k0'] : ['k0', 'n0'];
    const [R, C] = what === 'A' ? [M, K] : [K, N];
    const g = c.vec ? 4 : 1;
    // Tile coordinates of group e: neighbouring e run along the contiguous axis.
    const [gr, gc] = c.along === 'col' ? [rows, cols / g] : [rows / g, cols];
    const total = gr * gc, per = Math.ceil(total / NT);
    // One statement in a loop (not one per element the invocation copies): small tiles have few
    // invocations, and a statement per element made shaders that took LLVM seconds to compile.
    const out: string[] = [];
    {
      const e = 'e_';
      const [r, cc] = c.along === 'col' ? [`${e} / ${gc}`, `(${e} % ${gc}) * ${g}`] : [`(${e} % ${gr}) * ${g}`, `${e} / ${gr}`];
      const guard = per * NT > total ? `if (${e} < ${total}) ` : '';
      const at = `${op.offset} + bt * ${op.sBatch} + (${r0} + r) * ${op.sRow} + (${c0} + c) * ${op.sCol}`;
      const inside = `${r0} + r < ${R} && ${c0} + c < ${C}`;
      // The tile element (r, c) as (k, m|n) of the k-major array.
      const put = (dr: number, dc: number, v: string): string => {
        const [rr, ccc] = [dr ? `(r + ${dr})` : 'r', dc ? `(c + ${dc})` : 'c'];
        return what === 'A' ? setTile('A', ccc, rr, v) : setTile('B', rr, ccc, v);
      };
      let stmt: string;
      if (op.quant) {
        stmt = `var x = 0.0f; if (${inside}) { x = ${what === 'A' ? 'qA_' : 'qB_'}(${at}); } ${put(0, 0, 'x')}`;
      } else if (op.window) {
        // Implicit GEMM: the strides address the patches; the element comes from the image, 0 in the padding.
        const w = windowRead(op.window, at);
        stmt = `var x = 0.0f; if (${inside}) { ${w.lets} if (${w.valid}) { x = ${el}(${loadExpr(buf, w.at, leaf)}); } } ${put(0, 0, 'x')}`;
      } else if (!c.vec) {
        stmt = `var x = 0.0f; if (${inside}) { x = ${el}(${loadExpr(buf, at, leaf)}); } ${put(0, 0, 'x')}`;
      } else {
        const comps = [0, 1, 2, 3].map((q) => `${el}(${loadExpr('w', `${q}`, leaf)})`);
        const along = (q: number): [number, number] => (c.along === 'col' ? [0, q] : [q, 0]);
        const puts = [0, 1, 2, 3].map((q) => put(...along(q), `x[${q}]`));
        stmt = `var x = vec4<f32>(0.0); if (${inside}) { let w = ${buf}[(${at}) / 4]; x = vec4<f32>(${comps.join(', ')}); } ${puts.join(' ')}`;
      }
      out.push(`for (var i_ = 0; i_ < ${per}; i_++) { let e_ = tid + i_ * ${NT}; ${guard}{ let r = ${r}; let c = ${cc}; ${stmt} } }`);
    }
    return out;
  };

  body.push(`let kEnd = bitcast<i32>(${PARAMS}[${kWord >> 2}][${kWord & 3}]);`);
  body.push(`for (var k0 = 0; k0 < kEnd; k0 += ${bk}) {`);
  body.push(...indent(copyLines('A')), ...indent(copyLines('B')));
  body.push('  workgroupBarrier();');
  // The k steps as a loop, not unrolled: a software adapter compiles each shader through LLVM at
  // its first dispatch, and unrolled steps took it seconds per shape (tens for small tiles).
  body.push(`  let aBase = ty * ${aVec ? tm / 4 : tm}; let bBase = tx;`);
  // The bound is the tile's part of K, not the constant bk: LLVM would unroll a constant trip count.
  body.push(`  let kTile = min(${bk}, kEnd - k0);`);
  body.push('  for (var kk = 0; kk < kTile; kk++) {');
  if (aVec) for (let i4 = 0; i4 < tm / 4; i4++) body.push(`    let a${i4} = As[aBase + kk * ${BM / 4} + ${i4}];`);
  else for (let i = 0; i < tm; i++) body.push(`    let a${i} = As[aBase + kk * ${BM} + ${i}];`);
  for (let j = 0; j < TN4; j++) body.push(`    let w${j} = Bs[bBase + kk * ${BN / 4} + ${j * wx}];`);
  for (let i = 0; i < tm; i++) {
    const a = aVec ? `a${Math.floor(i / 4)}[${i % 4}]` : `a${i}`;
    for (let j = 0; j < TN4; j++) body.push(`    c${i}_${j} = fma(vec4<f32>(${a}), w${j}, c${i}_${j});`);
  }
  body.push('  }');
  body.push('  workgroupBarrier();', '}');

  // The epilogue, once as a function: each output element calls it with its coordinates.
  const p = printer('t');
  const v = p.print(k.value);
  indexCheck ||= p.usesIndexCheck;
  globals.push(
    'fn out_(acc: f32, bt: i32, m: i32, n: i32) {',
    `  let flat = (bt * ${M} + m) * ${N} + n;`,
    ...indent(outputCoords(k)),
    ...indent(p.lines),
    `  ${storeStmt(f.buf(0), 'flat', k.out.dtype, k.value.dtype === k.out.dtype ? v : castWgsl(v, k.value.dtype, k.out.dtype))}`,
    '}',
  );
  // One call site of the epilogue: the register tile goes to an array walked by a loop, so
  // LLVM (lavapipe) compiles the epilogue once rather than tm·tn times.
  body.push(`var res: array<vec4<f32>, ${tm * TN4}>;`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < TN4; j++) body.push(`res[${i * TN4 + j}] = c${i}_${j};`);
  body.push(
    `for (var i = 0; i < ${tm}; i++) {`,
    `  let m = m0 + ty * ${tm} + i;`,
    `  if (m >= ${M}) { break; }`,
    `  for (var e = 0; e < ${tn}; e++) {`,
    `    let n = n0 + ((e / 4) * ${wx} + tx) * 4 + e % 4;`,
    `    if (n < ${N}) { out_(res[i * ${TN4} + e / 4][e % 4], bt, m, n); }`,
    '  }',
    '}',
  );

  const entry = [
    `@compute @workgroup_size(${wx}, ${wy}, 1)`,
    'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {',
    ...indent(body),
    '}',
  ].join('\n');
  return { ...assemble(fr, { globals, body: entry, workgroups: [tilesN, gy, gz], indexCheck }), extraUniforms: [K] };
}

/**
 * `let oI` for each coordinate of the output's loop, from bt, m, n and the flat index: where the
 * loop ends in [M, N], the last two are the row and the column and the rest unravel bt.
 */
export function outputCoords(k: Kernel): string[] {
  const mm = k.matmul!;
  const L = k.loop.length;
  const endsMN = L >= 2 && k.loop[L - 1] === mm.N && k.loop[L - 2] === mm.M;
  if (!endsMN) return unravel(k.loop, 'flat');
  return [...(L > 2 ? unravel(k.loop.slice(0, L - 2), 'bt') : []), `let o${L - 2}: i32 = m;`, `let o${L - 1}: i32 = n;`];
}

export const printMatmul: WgslPrinter = (k, o) => printMatmulWith(k, o, chooseTile(k.matmul ?? { M: 1, N: 1, K: 1 }, o));
