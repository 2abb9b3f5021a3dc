/**
 * The JS printer of sliding-window kernels (kernel/ir.ts WindowSpec): im2col, col2im, max and
 * average pooling and their gradients. A thread owns whole NCHW planes [start, end) (units are N·C planes; batch-fastest for im2col and col2im),
 * so the accumulating ops (col2im, maxPoolGrad) write only their own planes, in a fixed order:
 * results do not depend on the split. A plane of im2col's patches is kh·kw runs of Ho·Wo. Padding is never read: each tap's in-grid range of
 * window columns is computed once per tap, and rows outside the grid are skipped whole.
 */
import type { Kernel, Scalar, WindowGeom } from '../../../kernel/ir.js';
import { storeJs } from '../js-values.js';
import type { Printer } from '../scatter.js';

/** The statements computing `s` and the expression naming it, from a fresh printer. */
function source(s: Scalar, printer: (prefix: string) => Printer, prefix: string): { lines: string; expr: string } {
  const p = printer(prefix);
  const expr = p.print(s);
  return { lines: p.lines.join('\n'), expr };
}

/** The body of `function (b, start, end)` over planes [start, end), and the plane count. */
/** Loops over window (wi, wj)'s in-grid taps, setting wh, ww (rows, then columns), around `body`. */
function inGridTaps(g: WindowGeom, body: readonly string[]): string[] {
  return [
    `for (let ta = 0; ta < ${g.kh}; ta++) {`,
    `const wh = wi * ${g.sh} - ${g.ph} + ta * ${g.dh};`,
    `if (wh < 0 || wh >= ${g.H}) continue;`,
    `for (let tb = 0; tb < ${g.kw}; tb++) {`,
    `const ww = wj * ${g.sw} - ${g.pw} + tb * ${g.dw};`,
    `if (ww < 0 || ww >= ${g.W}) continue;`,
    ...body,
    '}', '}',
  ];
}

/**
 * maxPoolGrad with the window's maximum known (args[2]): the first tap equal to it, found without
 * data-dependent branches (a scan's compares mispredict about half the time on real data). Sets
 * `f` (1 if a tap matched) and `at` (that tap's offset in the plane); with none (a NaN maximum)
 * the caller scans.
 */
function knownMaximum(w: NonNullable<Kernel['window']>, printer: (prefix: string) => Printer): string[] {
  const { W, kh, kw, sh, sw, dh, dw } = w.geom;
  const mx = source(w.args[2]!, printer, 'z');
  const round = (v: string): string => (w.args[2]!.dtype === 'float32' ? `Math.fround(${v})` : v);
  const lines = ['let f = 0, at = 0;', '{', mx.lines, `const mz = ${mx.expr};`];
  for (let t = 0; t < kh * kw; t++) {
    const a = Math.floor(t / kw), bb = t % kw;
    const x = source(w.args[0]!, printer, 'x');
    lines.push(`{ const wh = wi * ${sh} + ${a * dh}, ww = wj * ${sw} + ${bb * dw};`, x.lines,
      `const e = ((${round(x.expr)} === mz) | 0) & (f ^ 1);`, `at += e * (wh * ${W} + ww); f |= e; }`);
  }
  lines.push('}');
  return lines;
}

export function windowKernel(k: Kernel, printer: (prefix: string) => Printer): { body: string; units: number } {
  const w = k.window;
  if (!w) throw new Error(`internal: kernel ${k.name} is not a window kernel`);
  const { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = w.geom;
  const C = w.C, units = w.N * C;
  const dt = k.out.dtype;
  if (dt !== 'float32' && dt !== 'float64') throw new Error(`internal: window kernel ${k.name} of dtype ${dt}`);
  const x = source(w.args[0]!, printer, 'x');
  // The patch ops take planes batch-fastest: neighbouring planes' patches are neighbours in the
  // [C, kh·kw, N, Ho, Wo] layout, so a thread streams through it instead of striding by a channel.
  const patches = w.op === 'im2col' || w.op === 'col2im';
  const plane = [
    'for (let p = start; p < end; p++) {',
    patches ? `const wc = (p / ${w.N}) | 0, wn = p - wc * ${w.N};` : `const wn = (p / ${C}) | 0, wc = p - wn * ${C};`,
  ];
  // The window columns wj whose tap column tb lies inside the grid: [j0, j1).
  const columns = [
    `const offw = tb * ${dw} - ${pw};`,
    `const j0 = offw >= 0 ? 0 : Math.ceil(-offw / ${sw});`,
    `const j1 = Math.max(j0, Math.min(${Wo}, Math.floor((${W - 1} - offw) / ${sw}) + 1));`,
  ];
  const lines: string[] = [...plane];
  switch (w.op) {
    case 'im2col':
      lines.push(
        `for (let ta = 0; ta < ${kh}; ta++) for (let tb = 0; tb < ${kw}; tb++) {`,
        // Patches are [C, kh·kw, N, Ho, Wo]: the plane's rows for this tap are contiguous.
        `let o = ((wc * ${kh * kw} + ta * ${kw} + tb) * ${w.N} + wn) * ${Ho * Wo};`,
        ...columns,
        `for (let wi = 0; wi < ${Ho}; wi++, o += ${Wo}) {`,
        `const wh = wi * ${sh} - ${ph} + ta * ${dh};`,
        `if (wh < 0 || wh >= ${H}) { out.fill(0, o, o + ${Wo}); continue; }`,
        'for (let wj = 0; wj < j0; wj++) out[o + wj] = 0;',
        'for (let wj = j0; wj < j1; wj++) {',
        `const ww = wj * ${sw} + offw;`,
        x.lines,
        `out[o + wj] = ${storeJs(dt, x.expr)};`,
        '}',
        `for (let wj = j1; wj < ${Wo}; wj++) out[o + wj] = 0;`,
        '}', '}');
      break;
    case 'col2im':
      lines.push(
        `const ob = (wn * ${C} + wc) * ${H * W};`,
        `out.fill(0, ob, ob + ${H * W});`,
        `for (let ta = 0; ta < ${kh}; ta++) for (let tb = 0; tb < ${kw}; tb++) {`,
        `const wq = ta * ${kw} + tb;`,
        ...columns,
        `for (let wi = 0; wi < ${Ho}; wi++) {`,
        `const wh = wi * ${sh} - ${ph} + ta * ${dh};`,
        `if (wh < 0 || wh >= ${H}) continue;`,
        `const rb = ob + wh * ${W} + offw;`,
        'for (let wj = j0; wj < j1; wj++) {',
        x.lines,
        `out[rb + wj * ${sw}] += ${x.expr};`,
        '}', '}', '}');
      break;
    case 'avgPool': case 'avgPoolGrad': {
      // Windows in row-major order; for each, its in-grid taps (a window's rows, then columns).
      const grad = w.op === 'avgPoolGrad';
      lines.push(grad ? `const ob = p * ${H * W};` : `let o = p * ${Ho * Wo};`);
      if (grad) lines.push(`out.fill(0, ob, ob + ${H * W});`);
      lines.push(`for (let wi = 0; wi < ${Ho}; wi++) for (let wj = 0; wj < ${Wo}; wj++) {`);
      if (grad) lines.push(x.lines, `const gv = ${x.expr} / ${kh * kw};`);
      else lines.push('let s = 0;');
      lines.push(...inGridTaps(w.geom, grad ? [`out[ob + wh * ${W} + ww] += gv;`] : [x.lines, `s += ${x.expr};`]));
      if (!grad) lines.push(`out[o++] = ${storeJs(dt, `s / ${kh * kw}`)};`);
      lines.push('}');
      break;
    }
    case 'maxPool': case 'maxPoolGrad': case 'maxPoolPick': {
      // PyTorch's scan: the first in-grid tap, then any larger value or NaN replaces it.
      const take = 'if (mh < 0 || v > m || v !== v) { m = v; mh = wh; mw = ww; }';
      // Without padding every tap of every window is in the grid: the taps unroll, unchecked.
      const unrolled = ph === 0 && pw === 0 && kh * kw <= 16 ? [
        'let m = -Infinity, mh = -1, mw = -1;',
        ...Array.from({ length: kh * kw }, (_, t) => {
          const a = Math.floor(t / kw), bb = t % kw;
          return `{ const wh = wi * ${sh} + ${a * dh}, ww = wj * ${sw} + ${bb * dw};\n${x.lines}\nconst v = ${x.expr};\n${take} }`;
        }),
      ] : null;
      // The forward value needs no position: each tap picks m or v by indexing a two-slot array with
      // the comparison, which compiles to no branch (a scan's compares mispredict on real data).
      const pick = w.op === 'maxPool' && unrolled ? [
        ...Array.from({ length: kh * kw }, (_, t) => {
          const a = Math.floor(t / kw), bb = t % kw;
          const v = `{ const wh = wi * ${sh} + ${a * dh}, ww = wj * ${sw} + ${bb * dw};\n${x.lines}\nconst v = ${x.expr};\n`;
          return t === 0 ? `let m = 0;\n${v}m = v; }` : `${v}T_[0] = m; T_[1] = v; m = T_[(v > m) | (v !== v)]; }`;
        }),
      ] : null;
      if (pick) lines.unshift('const T_ = new Float64Array(2);');
      const argmax = pick ?? unrolled ?? [
        'let m = -Infinity, mh = -1, mw = -1;',
        ...inGridTaps(w.geom, [x.lines, `const v = ${x.expr};`, take]),
      ];
      if (w.op === 'maxPoolGrad') lines.push(`const ob = p * ${H * W};`, `out.fill(0, ob, ob + ${H * W});`);
      else lines.push(`let o = p * ${Ho * Wo};`);
      lines.push(`for (let wi = 0; wi < ${Ho}; wi++) for (let wj = 0; wj < ${Wo}; wj++) {`);
      const known = w.op === 'maxPoolGrad' && unrolled && w.args[2] ? knownMaximum(w, printer) : null;
      if (known) lines.push(...known, 'if (!f) {');
      lines.push(...argmax);
      if (w.op === 'maxPool') lines.push(`out[o++] = ${storeJs(dt, 'm')};`);
      else {
        const y = source(w.args[1]!, printer, 'y');
        lines.push('{', 'const wh = mh, ww = mw;', y.lines,
          w.op === 'maxPoolGrad' ? `if (mh >= 0) out[ob + mh * ${W} + mw] += ${y.expr};` : `out[o++] = mh >= 0 ? ${storeJs(dt, y.expr)} : 0;`,
          '}');
      }
      if (known) {
        const y = source(w.args[1]!, printer, 'y');
        lines.push('} else {', y.lines, `out[ob + at] += ${y.expr};`, '}');
      }
      lines.push('}');
      break;
    }
  }
  lines.push('}');
  return { body: lines.filter((l) => l !== '').join('\n'), units };
}
