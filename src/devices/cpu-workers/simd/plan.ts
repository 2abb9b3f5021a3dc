/**
 * Which kernels the WebAssembly SIMD printer takes, and the shape of the code it prints for them.
 *
 * A kernel qualifies when it is float32 throughout (every load, constant, op result and the
 * output), its ops are ones simd/math.ts has lane-wise forms of, and every load reads either a
 * contiguous run along the kernel's innermost dims (index coefficient = the dim's row-major
 * stride) or one value that those dims do not move (coefficient 0: a broadcast operand). Two
 * kernel kinds qualify: plain elementwise kernels ('map') and sums over the innermost dims of
 * their input whose per-term value is such an expression ('sum'). Anything else is printed as JS.
 */
import type { ElementwiseOp } from '../../../graph/ops.js';
import { numel } from '../../../graph/shape.js';
import type { Index, Kernel, Scalar } from '../../../kernel/ir.js';

/** An index as c + Σ coef·var, for the loop variables it reads. */
export interface Affine { readonly c: number; readonly coef: ReadonlyMap<string, number> }

/** One value of the vectorised expression, operands by position in SimdPlan.nodes. */
export type SimdNode =
  | { readonly k: 'vec'; readonly slot: number }
  | { readonly k: 'splat'; readonly slot: number }
  | { readonly k: 'const'; readonly value: number }
  | { readonly k: 'op'; readonly op: SimdOp; readonly args: readonly number[] };

/** The ops with lane-wise forms (see simd/math.ts); any other op sends the kernel to JS. */
export const SIMD_OPS = [
  'neg', 'abs', 'sign', 'recip', 'exp', 'log', 'sqrt', 'tanh', 'erf', 'relu', 'floor', 'ceil', 'trunc', 'round',
  'add', 'sub', 'mul', 'div', 'maximum', 'minimum',
] as const satisfies readonly ElementwiseOp[];
export type SimdOp = (typeof SIMD_OPS)[number];
const SIMD_OP_SET: ReadonlySet<string> = new Set(SIMD_OPS);

/** A load the driver copies into wasm memory (`vec`, a run per block) or writes once per segment (`splat`). */
export interface SimdLoad { readonly input: number; readonly base: Affine }
export type SimdScalar = SimdLoad | { readonly param: number };

export interface SimdPlan {
  readonly kind: 'map' | 'sum';
  readonly nodes: readonly SimdNode[];
  readonly root: number;
  readonly vecs: readonly SimdLoad[];
  readonly scalars: readonly SimdScalar[];
  /**
   * 'map': the loop dims outside the segment, [size, var] outermost first; the flat output
   * index splits into (segment number, offset) and the segment number unravels over these.
   * 'sum': every non-unit loop dim (each output is one segment, the reduced run).
   */
  readonly outer: readonly (readonly [number, string])[];
  /** Elements of one contiguous run: the merged innermost loop dims ('map'), the reduced elements ('sum'). */
  readonly segment: number;
}

export function affine(i: Index): Affine | null {
  switch (i.k) {
    case 'var': return { c: 0, coef: new Map([[i.name, 1]]) };
    case 'num': return { c: i.n, coef: new Map() };
    case 'add': {
      const a = affine(i.a), b = affine(i.b);
      if (!a || !b) return null;
      const coef = new Map(a.coef);
      for (const [v, n] of b.coef) coef.set(v, (coef.get(v) ?? 0) + n);
      return { c: a.c + b.c, coef };
    }
    case 'mul': {
      const a = affine(i.a);
      if (!a) return null;
      return { c: a.c * i.n, coef: new Map([...a.coef].map(([v, n]) => [v, n * i.n])) };
    }
    default: return null;
  }
}

/** Why a kernel is not taken, for tests and reports. */
export type Refusal = string;

/** Builds the plan, or says why the kernel stays in JS. */
export function planSimd(k: Kernel): SimdPlan | Refusal {
  if (k.matmul || k.scatter || k.row || k.window || k.outIndex || k.extraOutputs?.length || (k.indexChecks?.length ?? 0) > 0) return 'not a plain elementwise or reduction kernel';
  if (k.out.dtype !== 'float32') return `output dtype ${k.out.dtype}`;
  const red = k.reduce;
  if (red && (red.spread || !red.inner || red.op !== 'sum')) return 'reduction other than an inner sum';
  // The segment: for a map, the longest run of trailing loop dims every load walks contiguously
  // or not at all; for a sum, all of the reduced dims.
  const loopDims: (readonly [number, string])[] = k.loop.map((d, i) => [d, `o${i}`] as const).filter(([d]) => d !== 1);
  const segDims: (readonly [number, string])[] = red ? red.dims.map((d, j) => [d, `r${j}`] as const).filter(([d]) => d !== 1) : loopDims;
  const expr = red ? red.value : k.value;
  if (red && !epilogueOnly(k.value)) return 'epilogue reads more than the accumulator';

  const loads: { input: number; a: Affine }[] = [];
  const bad = collectLoads(expr, loads);
  if (bad) return bad;
  const known = new Set([...loopDims, ...segDims].map(([, v]) => v));
  for (const l of loads) for (const v of l.a.coef.keys()) if (!known.has(v) && l.a.coef.get(v) !== 0) return `index reads ${v}`;

  const fits = (a: Affine, from: number): 'vec' | 'splat' | null => {
    let stride = 1, vec = true, splat = true;
    for (let j = segDims.length - 1; j >= from; j--) {
      const [d, v] = segDims[j]!;
      const c = a.coef.get(v) ?? 0;
      if (c !== stride) vec = false;
      if (c !== 0) splat = false;
      stride *= d;
    }
    return vec ? 'vec' : splat ? 'splat' : null;
  };
  let from = segDims.length;
  if (red) {
    from = 0;
    if (loads.some((l) => fits(l.a, 0) === null)) return 'a load is not contiguous over the reduced dims';
  } else {
    while (from > 0 && loads.every((l) => fits(l.a, from - 1) !== null)) from--;
    if (from === segDims.length && segDims.length > 0) return 'no load is contiguous in the innermost dim';
  }
  const inSeg = new Set(segDims.slice(from).map(([, v]) => v));
  const baseOf = (a: Affine): Affine => ({ c: a.c, coef: new Map([...a.coef].filter(([v, n]) => n !== 0 && !inSeg.has(v))) });

  const keyOf = (a: Affine): string => `${a.c}|${[...a.coef].filter(([, n]) => n !== 0).sort().join(',')}`;
  const { nodes, root, vecs, scalars } = lanePlan(expr, (a) => ({ kind: fits(a, from)!, key: keyOf(a), vecBase: baseOf(a), splatBase: baseOf(a) }));
  const segment = numel(segDims.slice(from).map(([d]) => d));
  const outer = red ? loopDims : segDims.slice(0, from);
  return { kind: red ? 'sum' : 'map', nodes, root, vecs, scalars, outer, segment };
}

/** How a load reads its input in lanes: the same element in every lane (splat) or consecutive ones (vec). */
export interface LaneLoad { kind: 'vec' | 'splat'; key: string; vecBase: Affine; splatBase: Affine }

/**
 * The lane-wise node graph of a value whose loads collectLoads accepted: equal subexpressions
 * once, each load placed by `classify` (given its affine index).
 */
export function lanePlan(value: Scalar, classify: (a: Affine) => LaneLoad): { nodes: SimdNode[]; root: number; vecs: SimdLoad[]; scalars: SimdScalar[] } {
  const nodes: SimdNode[] = [];
  const ids = new Map<string, number>();
  const vecs: SimdLoad[] = [];
  const scalars: SimdScalar[] = [];
  const intern = (key: string, node: () => SimdNode): number => {
    let id = ids.get(key);
    if (id === undefined) { id = nodes.length; nodes.push(node()); ids.set(key, id); }
    return id;
  };
  const walk = (s: Scalar): number => {
    switch (s.k) {
      case 'load': {
        const l = classify(affine(s.index)!);
        return intern(`${l.kind}:${s.input}:${l.key}`, () => {
          if (l.kind === 'vec') { vecs.push({ input: s.input, base: l.vecBase }); return { k: 'vec', slot: vecs.length - 1 }; }
          scalars.push({ input: s.input, base: l.splatBase });
          return { k: 'splat', slot: scalars.length - 1 };
        });
      }
      case 'param': return intern(`param:${s.slot}`, () => { scalars.push({ param: s.slot }); return { k: 'splat', slot: scalars.length - 1 }; });
      case 'const': return intern(`const:${Object.is(s.value, -0) ? '-0' : String(s.value)}`, () => ({ k: 'const', value: s.value }));
      case 'cast': return walk(s.arg);
      case 'op': {
        const args = s.args.map(walk);
        return intern(`${s.op}(${args.join(',')})`, () => ({ k: 'op', op: s.op as SimdOp, args }));
      }
      default: throw new Error(`internal: simd plan reached ${s.k}`);
    }
  };
  const root = walk(value);
  return { nodes, root, vecs, scalars };
}

/** Every load of a value, or why the value has no lane-wise form. */
export function collectLoads(s: Scalar, out: { input: number; a: Affine }[]): Refusal | null {
  if (s.dtype !== 'float32') return `${s.k} of dtype ${s.dtype}`;
  switch (s.k) {
    case 'load': {
      const a = affine(s.index);
      if (!a) return 'a load index that is not affine';
      out.push({ input: s.input, a });
      return null;
    }
    case 'const': case 'param': return null;
    case 'cast': return collectLoads(s.arg, out);
    case 'op': {
      if (!SIMD_OP_SET.has(s.op)) return `op ${s.op}`;
      for (const a of s.args) { const r = collectLoads(a, out); if (r) return r; }
      return null;
    }
    default: return `${s.k} value`;
  }
}

/** A reduction epilogue the driver prints itself: the accumulator, constants, params and ops on them. */
export function epilogueOnly(s: Scalar): boolean {
  switch (s.k) {
    case 'acc': case 'const': return true;
    case 'param': return s.dtype === 'float32';
    case 'cast': return s.dtype === 'float32' && epilogueOnly(s.arg);
    case 'op': return s.dtype === 'float32' && s.args.every(epilogueOnly);
    default: return false;
  }
}
