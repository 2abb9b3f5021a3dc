/**
 * Index arithmetic that simplifies as it is built. Views push coordinates through reshapes as
 * ravel/unravel chains; knowing each loop variable's range turns most of those divisions and
 * remainders back into plain affine sums (the idea of tinygrad's symbolic module).
 *
 * Division and remainder are floor operations on values that are non-negative wherever they are
 * read; a rewrite that would change the result for a negative operand is only applied when the
 * operand's range is provably non-negative.
 */
import type { Index } from './ir.js';

type Range = readonly [number, number];
/** Σ coef·atom + constant, with atoms keyed by their printed form. */
interface Linear { terms: Map<string, { atom: Index; coef: number }>; k: number }

export const key = (i: Index): string => {
  switch (i.k) {
    case 'var': return i.name;
    case 'num': return String(i.n);
    case 'add': return `(${key(i.a)}+${key(i.b)})`;
    case 'mul': return `(${key(i.a)}*${i.n})`;
    case 'div': return `(${key(i.a)}/${i.n})`;
    case 'mod': return `(${key(i.a)}%${i.n})`;
    case 'val': {
      let id = valIds.get(i.v);
      if (id === undefined) valIds.set(i.v, (id = nextVal++));
      return `v${id}`;
    }
  }
};
// Data-dependent coordinates are equal only when they are the same scalar.
const valIds = new WeakMap<object, number>();
let nextVal = 0;

export class Symbolic {
  /** Loop variables and their sizes: a variable ranges over [0, size). */
  constructor(private readonly sizes: ReadonlyMap<string, number>) {}

  range(i: Index): Range {
    switch (i.k) {
      case 'var': return [0, (this.sizes.get(i.name) ?? Infinity) - 1];
      case 'num': return [i.n, i.n];
      case 'add': { const a = this.range(i.a), b = this.range(i.b); return [a[0] + b[0], a[1] + b[1]]; }
      case 'mul': { const a = this.range(i.a); return i.n >= 0 ? [a[0] * i.n, a[1] * i.n] : [a[1] * i.n, a[0] * i.n]; }
      case 'div': { const a = this.range(i.a); return [Math.floor(a[0] / i.n), Math.floor(a[1] / i.n)]; }
      case 'mod': { const a = this.range(i.a); return a[0] >= 0 && a[1] < i.n ? a : [0, i.n - 1]; }
      // A checked index reads 0 when out of range (kernel/ir.ts), so it lies in [0, hi).
      case 'val': return i.bound ? [0, i.bound.hi - 1] : [-Infinity, Infinity];
    }
  }

  private linear(i: Index): Linear {
    const out: Linear = { terms: new Map(), k: 0 };
    const walk = (x: Index, c: number): void => {
      if (x.k === 'num') out.k += c * x.n;
      else if (x.k === 'add') { walk(x.a, c); walk(x.b, c); }
      else if (x.k === 'mul') walk(x.a, c * x.n);
      else {
        const kk = key(x);
        const t = out.terms.get(kk);
        if (t) t.coef += c; else out.terms.set(kk, { atom: x, coef: c });
      }
    };
    walk(i, 1);
    return out;
  }

  private build(l: Linear): Index {
    let acc: Index | null = null;
    for (const { atom, coef } of l.terms.values()) {
      if (coef === 0) continue;
      const term: Index = coef === 1 ? atom : { k: 'mul', a: atom, n: coef };
      acc = acc ? { k: 'add', a: acc, b: term } : term;
    }
    if (!acc) return { k: 'num', n: l.k };
    return l.k === 0 ? acc : { k: 'add', a: acc, b: { k: 'num', n: l.k } };
  }

  /** floor(x/n)·n + x mod n is x again (for x >= 0): undo an unravel followed by a ravel. */
  private recombine(l: Linear): Linear {
    for (const [kd, d] of l.terms) {
      if (d.atom.k !== 'div') continue;
      const x = d.atom.a, n = d.atom.n;
      const km = key({ k: 'mod', a: x, n });
      const m = l.terms.get(km);
      if (!m || m.coef === 0 || d.coef !== m.coef * n || this.range(x)[0] < 0) continue;
      l.terms.delete(kd);
      l.terms.delete(km);
      const inner = this.linear(x);
      for (const [ki, t] of inner.terms) {
        const cur = l.terms.get(ki);
        if (cur) cur.coef += t.coef * m.coef; else l.terms.set(ki, { atom: t.atom, coef: t.coef * m.coef });
      }
      l.k += inner.k * m.coef;
      return this.recombine(l);
    }
    // (x/k) mod m · c + x/(k·m) · c·m is (x/k) · c: the middle digits of an unravel into three or
    // more dims, whose nested divisions have merged (flattening a [B, C, H, W] value meets it).
    for (const [km, m] of l.terms) {
      if (m.atom.k !== 'mod' || m.atom.a.k !== 'div' || m.coef === 0) continue;
      const y = m.atom.a, n = m.atom.n;
      const kd = key({ k: 'div', a: y.a, n: y.n * n });
      const d = l.terms.get(kd);
      if (!d || d.coef !== m.coef * n || this.range(y.a)[0] < 0) continue;
      l.terms.delete(kd);
      l.terms.delete(km);
      const ky = key(y);
      const cur = l.terms.get(ky);
      if (cur) cur.coef += m.coef; else l.terms.set(ky, { atom: y, coef: m.coef });
      return this.recombine(l);
    }
    return l;
  }

  add(a: Index, b: Index): Index {
    const la = this.linear(a), lb = this.linear(b);
    for (const [kk, t] of lb.terms) {
      const cur = la.terms.get(kk);
      if (cur) cur.coef += t.coef; else la.terms.set(kk, { ...t });
    }
    la.k += lb.k;
    return this.build(this.recombine(la));
  }

  mul(a: Index, n: number): Index {
    if (n === 0) return { k: 'num', n: 0 };
    const l = this.linear(a);
    for (const t of l.terms.values()) t.coef *= n;
    l.k *= n;
    return this.build(l);
  }

  /** Splits x into the part divisible by n (terms and constant) and the rest. */
  private split(x: Index, n: number): { whole: Linear; rest: Linear } {
    const l = this.linear(x);
    const whole: Linear = { terms: new Map(), k: Math.floor(l.k / n) * n };
    const rest: Linear = { terms: new Map(), k: l.k - whole.k };
    for (const [kk, t] of l.terms) (t.coef % n === 0 ? whole : rest).terms.set(kk, t);
    return { whole, rest };
  }

  div(x: Index, n: number): Index {
    if (n === 1) return x;
    if (x.k === 'num') return { k: 'num', n: Math.floor(x.n / n) };
    if (x.k === 'div' && this.range(x.a)[0] >= 0) return this.div(x.a, x.n * n);
    const { whole, rest } = this.split(x, n);
    const r = this.build(rest);
    const [lo, hi] = this.range(r);
    if (lo < 0) return { k: 'div', a: x, n };
    const q = this.build({ terms: new Map([...whole.terms].map(([kk, t]) => [kk, { atom: t.atom, coef: t.coef / n }])), k: whole.k / n });
    if (hi < n) return q;
    return this.add(q, { k: 'div', a: r, n });
  }

  mod(x: Index, n: number): Index {
    if (n === 1) return { k: 'num', n: 0 };
    if (x.k === 'num') return { k: 'num', n: ((x.n % n) + n) % n };
    const { rest } = this.split(x, n);
    const r = this.build(rest);
    const [lo, hi] = this.range(r);
    if (lo < 0) return this.range(x)[0] >= 0 && this.range(x)[1] < n ? x : { k: 'mod', a: x, n };
    return hi < n ? r : { k: 'mod', a: r, n };
  }

  /** Row-major flat index of coordinates in `shape`. */
  ravel(coords: readonly Index[], shape: readonly number[]): Index {
    let flat: Index = { k: 'num', n: 0 };
    let stride = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (shape[i] !== 1) flat = this.add(flat, this.mul(coords[i]!, stride));
      stride *= shape[i]!;
    }
    return flat;
  }

  unravel(flat: Index, shape: readonly number[]): Index[] {
    const out = new Array<Index>(shape.length);
    let stride = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      out[i] = shape[i] === 1 ? { k: 'num', n: 0 } : this.mod(this.div(flat, stride), shape[i]!);
      stride *= shape[i]!;
    }
    return out;
  }
}
