/**
 * The WGSL printer of sliding-window kernels (kernel/ir.ts WindowSpec), the twin of
 * cpu-workers/conv/window.ts. Every op is written as a gather: one invocation per output element,
 * which reads what lands on it and writes only itself, so there are no races and no atomics.
 *
 * - im2col, maxPool, maxPoolPick, avgPool: the element's window, taps in order (a, b).
 * - col2im: the taps landing on an input element, in tap order (a, b) — for one element and one
 *   tap at most one window reads it, so this is the CPU's order (taps, then windows).
 * - maxPoolGrad, avgPoolGrad: the windows covering an input element in row-major order (taps
 *   in reverse order: a later tap of a window is an earlier window's), each window's first
 *   maximum found by the same scan as maxPool (in-grid taps in order; a larger value or a NaN
 *   replaces it). With the maximum known (args[2]) an element is a window's first maximum when
 *   it equals it and no earlier tap does, so most windows cost one read instead of a scan.
 *
 * Sums accumulate in f32 in the CPU's order (the CPU adds into a float32 array, rounding at each
 * add), so col2im and maxPoolGrad of plain loads match it exactly; avgPool divides an f32 sum
 * where the CPU divides a float64 one, and avgPoolGrad adds g / (kh·kw) rounded to f32 (within
 * a few ulp).
 */
import { numel } from '../../../graph/shape.js';
import type { Kernel, WindowSpec } from '../../../kernel/ir.js';
import { UnsupportedKernel, type WgslOptions, type WgslProgram } from './program.js';
import { frameOf, gridOf, type Frame } from './struct-frame.js';

const WG = 64;

/** The variables a window source may read, in the order every source function takes them. */
const VARS = ['wn', 'wc', 'wh', 'ww', 'wi', 'wj', 'wq'] as const;
const call = (name: string, v: Partial<Record<(typeof VARS)[number], string>>): string =>
  `${name}(${VARS.map((x) => v[x] ?? '0').join(', ')})`;

/** `let` statements splitting the flat index `e` over `dims` (row-major), naming them `names`. */
function split(e: string, dims: readonly number[], names: readonly string[]): string {
  const lines = [`  var t_ = ${e};`];
  for (let i = dims.length - 1; i >= 0; i--) {
    lines.push(i === 0 ? `  let ${names[i]} = t_;` : `  let ${names[i]} = t_ % ${dims[i]}; t_ = t_ / ${dims[i]};`);
  }
  return lines.join('\n');
}

/** `body` for every in-grid tap (input row wh, column ww) of window (wi, wj), taps in row-major order. */
function overTaps(g: WindowSpec['geom'], body: string): string {
  const { H, W, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  return `  for (var ta = 0; ta < ${kh}; ta++) {
    let wh = wi * ${sh} - ${ph} + ta * ${dh};
    if (wh < 0 || wh >= ${H}) { continue; }
    for (var tb = 0; tb < ${kw}; tb++) {
      let ww = wj * ${sw} - ${pw} + tb * ${dw};
      if (ww < 0 || ww >= ${W}) { continue; }
      ${body}
    }
  }`;
}

/**
 * The first maximum of window (wi, wj) of plane (wn, wc): PyTorch's scan over in-grid taps.
 * `.h < 0` when no tap is in the grid (then the maximum is -Infinity).
 */
function argmaxFn(w: WindowSpec): string {
  const { H, W, kh, kw, sh, sw, ph, pw, dh, dw } = w.geom;
  return `struct Max_ { m: f32, h: i32, w: i32 }
fn argmax_(wn: i32, wc: i32, wi: i32, wj: i32) -> Max_ {
  let ninf = 0xff800000u; // a runtime value: a constant bitcast to -inf is a WGSL error
  var r = Max_(bitcast<f32>(ninf), -1, -1);
${overTaps(w.geom, `let v = f32(${call('x_', { wn: 'wn', wc: 'wc', wh: 'wh', ww: 'ww' })});
      if (r.h < 0 || v > r.m || (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { r = Max_(v, wh, ww); }`)}
  return r;
}`;
}

/** Loops over the windows covering input element (h, w) in row-major order, around `body` (which sees wi, wj). */
function coveringWindows(w: WindowSpec, body: string): string {
  const { Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = w.geom;
  return `  for (var ta = ${kh - 1}; ta >= 0; ta--) {
    let th = h + ${ph} - ta * ${dh};
    if (th < 0 || th % ${sh} != 0 || th / ${sh} >= ${Ho}) { continue; }
    let wi = th / ${sh};
    for (var tb = ${kw - 1}; tb >= 0; tb--) {
      let tw = w + ${pw} - tb * ${dw};
      if (tw < 0 || tw % ${sw} != 0 || tw / ${sw} >= ${Wo}) { continue; }
      let wj = tw / ${sw};
${body}
    }
  }`;
}

/** The statements computing output element `e` (an i32) of the kernel, ending in a store. */
function element(k: Kernel, w: WindowSpec, f: Frame): { code: string; helpers: string } {
  const { H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw } = w.geom;
  const { N, C } = w;
  const store = (v: string): string => `  ${f.store('e', v)}`;
  switch (w.op) {
    case 'im2col':
      return {
        helpers: '',
        code: `${split('e', [C, kh * kw, N, Ho, Wo], ['wc', 'wq', 'wn', 'wi', 'wj'])}
  let wh = wi * ${sh} - ${ph} + (wq / ${kw}) * ${dh};
  let ww = wj * ${sw} - ${pw} + (wq % ${kw}) * ${dw};
  var v = 0.0f;
  if (wh >= 0 && wh < ${H} && ww >= 0 && ww < ${W}) { v = f32(${call('x_', { wn: 'wn', wc: 'wc', wh: 'wh', ww: 'ww' })}); }
${store('v')}`,
      };
    case 'maxPool': case 'maxPoolPick': case 'avgPool': {
      const head = split('e', [N, C, Ho, Wo], ['wn', 'wc', 'wi', 'wj']);
      if (w.op === 'avgPool') {
        return {
          helpers: '',
          code: `${head}
  var s = 0.0f;
${overTaps(w.geom, `s = k_(s + f32(${call('x_', { wn: 'wn', wc: 'wc', wh: 'wh', ww: 'ww' })}));`)}
${store(`s / ${kh * kw}.0f`)}`,
        };
      }
      const pick = w.op === 'maxPoolPick'
        ? `  var v = 0.0f;
  if (mx.h >= 0) { v = f32(${call('y_', { wn: 'wn', wc: 'wc', wh: 'mx.h', ww: 'mx.w' })}); }
${store('v')}`
        : store('mx.m');
      return { helpers: argmaxFn(w), code: `${head}\n  let mx = argmax_(wn, wc, wi, wj);\n${pick}` };
    }
    case 'col2im':
      return {
        helpers: '',
        code: `${split('e', [N, C, H, W], ['wn', 'wc', 'h', 'w'])}
  var s = 0.0f;
  for (var ta = 0; ta < ${kh}; ta++) {
    let th = h + ${ph} - ta * ${dh};
    if (th < 0 || th % ${sh} != 0 || th / ${sh} >= ${Ho}) { continue; }
    for (var tb = 0; tb < ${kw}; tb++) {
      let tw = w + ${pw} - tb * ${dw};
      if (tw < 0 || tw % ${sw} != 0 || tw / ${sw} >= ${Wo}) { continue; }
      s = k_(s + f32(${call('x_', { wn: 'wn', wc: 'wc', wi: `th / ${sh}`, wj: `tw / ${sw}`, wq: `ta * ${kw} + tb` })}));
    }
  }
${store('s')}`,
      };
    case 'maxPoolGrad': case 'avgPoolGrad': {
      const max = w.op === 'maxPoolGrad';
      const known = max && w.args.length > 2;
      const g = `f32(${call(max ? 'y_' : 'x_', { wn: 'wn', wc: 'wc', wi: 'wi', wj: 'wj' })})`;
      const add = !max ? `      s = k_(s + ${g} / ${kh * kw}.0f);`
        : !known ? `      let mx = argmax_(wn, wc, wi, wj);
      if (mx.h == h && mx.w == w) { s = k_(s + ${g}); }`
          // The known maximum: this element is the window's first maximum if it equals it and no
          // earlier in-grid tap does (a NaN maximum matches nothing: then the scan decides).
          : `      let mz = f32(${call('m_', { wn: 'wn', wc: 'wc', wi: 'wi', wj: 'wj' })});
      var first = false;
      if ((bitcast<u32>(mz) & 0x7fffffffu) > 0x7f800000u) { let mx = argmax_(wn, wc, wi, wj); first = mx.h == h && mx.w == w; }
      else if (v0 == mz) { first = none_before_(wn, wc, wi, wj, ta, tb, mz); }
      if (first) { s = k_(s + ${g}); }`;
      return {
        helpers: max ? argmaxFn(w) + (known ? `\n${noneBeforeFn(w)}` : '') : '',
        code: `${split('e', [N, C, H, W], ['wn', 'wc', 'h', 'w'])}
  var s = 0.0f;
${known ? `  let v0 = f32(${call('x_', { wn: 'wn', wc: 'wc', wh: 'h', ww: 'w' })});\n` : ''}${coveringWindows(w, add)}
${store('s')}`,
      };
    }
  }
}

/** Whether no in-grid tap of window (wi, wj) before tap (ta0, tb0), in scan order, equals `mz`. */
function noneBeforeFn(w: WindowSpec): string {
  const { H, W, kw, sh, sw, ph, pw, dh, dw } = w.geom;
  return `fn none_before_(wn: i32, wc: i32, wi: i32, wj: i32, ta0: i32, tb0: i32, mz: f32) -> bool {
  for (var ta = 0; ta <= ta0; ta++) {
    let wh = wi * ${sh} - ${ph} + ta * ${dh};
    if (wh < 0 || wh >= ${H}) { continue; }
    for (var tb = 0; tb < ${kw}; tb++) {
      if (ta == ta0 && tb >= tb0) { break; }
      let ww = wj * ${sw} - ${pw} + tb * ${dw};
      if (ww < 0 || ww >= ${W}) { continue; }
      if (f32(${call('x_', { wn: 'wn', wc: 'wc', wh: 'wh', ww: 'ww' })}) == mz) { return false; }
    }
  }
  return true;
}`;
}

export function printWindow(k: Kernel, o: WgslOptions): WgslProgram {
  const w = k.window;
  if (!w) throw new Error(`internal: kernel ${k.name} is not a window kernel`);
  if (k.outIndex || k.extraOutputs?.length) throw new UnsupportedKernel(`webgpu: window kernel ${k.name} with a store or extra outputs`);
  if (k.out.dtype !== 'float32') throw new UnsupportedKernel(`webgpu: window kernel ${k.name} of dtype ${k.out.dtype}`);
  const f = frameOf(k, o);
  const total = numel(k.out.shape);
  const grid = gridOf(Math.ceil(total / WG), o);
  const { code, helpers } = element(k, w, f);
  // x_ is args[0], y_ args[1], m_ maxPoolGrad's known maximum.
  const sources = w.args.map((s, i) => f.source(s, ['x_', 'y_', 'm_'][i]!, VARS));
  const body = `${helpers}
${f.entry(WG)}
  let eu = (${grid.linear('wid', 'nwg')}) * ${WG}u + t;
  if (eu >= ${total}u) { return; }
  let e = i32(eu);
${code}
}`;
  return f.program(body, sources, grid.workgroups);
}
