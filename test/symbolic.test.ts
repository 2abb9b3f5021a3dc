// src/kernel/symbolic.ts on its own: index expressions simplified as they are built, checked by
// brute force over every value of their loop variables. Simplification must never change a
// value: with floor division everywhere, and with the kernels' truncating `(a / n) | 0` and `%`
// wherever the expression as written only divides non-negative values.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Symbolic, key } from '../src/kernel/symbolic.js';
import { inum, ivar, type Index } from '../src/kernel/ir.js';
import { ref } from './reference/check.js';

type Env = Record<string, number>;
const floorMod = (a: number, n: number): number => ((a % n) + n) % n;

/** The value of `i`: floor division and modulo ('floor'), or JavaScript's as the kernels print them ('js'). */
function evaluate(i: Index, env: Env, mode: 'floor' | 'js'): number {
  return value(i, env, mode) + 0; // -0 is 0 here
}
function value(i: Index, env: Env, mode: 'floor' | 'js'): number {
  switch (i.k) {
    case 'var': return env[i.name]!;
    case 'num': return i.n;
    case 'add': return evaluate(i.a, env, mode) + evaluate(i.b, env, mode);
    case 'mul': return evaluate(i.a, env, mode) * i.n;
    case 'div': { const a = evaluate(i.a, env, mode); return mode === 'floor' ? Math.floor(a / i.n) : (a / i.n) | 0; }
    case 'mod': { const a = evaluate(i.a, env, mode); return mode === 'floor' ? floorMod(a, i.n) : a % i.n; }
    case 'val': throw new Error('no data-dependent indices here');
  }
}

/** Every assignment of the variables, each over [0, size). */
function* assignments(sizes: ReadonlyMap<string, number>): Generator<Env> {
  const names = [...sizes.keys()];
  const total = names.reduce((p, n) => p * sizes.get(n)!, 1);
  for (let f = 0; f < total; f++) {
    const coords = ref.unravel(f, names.map((n) => sizes.get(n)!));
    yield Object.fromEntries(names.map((n, j) => [n, coords[j]!]));
  }
}

const sym = (sizes: Record<string, number>): Symbolic => new Symbolic(new Map(Object.entries(sizes)));
const x = ivar('x'), y = ivar('y');

describe('range folding at the boundaries', () => {
  test('(x + 1) % 5 folds to x + 1 for x in [0, 3], not for x in [0, 4]', () => {
    const small = sym({ x: 4 }).mod(sym({ x: 4 }).add(x, inum(1)), 5);
    expect(key(small)).toBe('(x+1)');
    const s = sym({ x: 5 });
    const wraps = s.mod(s.add(x, inum(1)), 5);
    expect(wraps.k).toBe('mod');
    expect(evaluate(wraps, { x: 4 }, 'js')).toBe(0);
  });

  test('(x + 1) / 5 is 0 for x in [0, 3] and stays a division for x in [0, 4]', () => {
    const s4 = sym({ x: 4 });
    expect(key(s4.div(s4.add(x, inum(1)), 5))).toBe('0');
    const s5 = sym({ x: 5 });
    const q = s5.div(s5.add(x, inum(1)), 5);
    expect(q.k).toBe('div');
    expect(evaluate(q, { x: 4 }, 'js')).toBe(1);
  });

  test('(4x + y) / 4 is x and (4x + y) % 4 is y while y < 4, and neither folds at y = 4', () => {
    const s = sym({ x: 3, y: 4 });
    const e = s.add(s.mul(x, 4), y);
    expect(key(s.div(e, 4))).toBe('x');
    expect(key(s.mod(e, 4))).toBe('y');
    const t = sym({ x: 3, y: 5 });
    const f = t.add(t.mul(x, 4), y);
    expect(t.div(f, 4).k).not.toBe('var');
    expect(t.mod(f, 4).k).toBe('mod');
  });

  test('a constant splits into its multiple of n and the rest: (4x + 6) / 4 = x + 1 + (2 / 4 = 0)', () => {
    const s = sym({ x: 3 });
    expect(key(s.div(s.add(s.mul(x, 4), inum(6)), 4))).toBe('(x+1)');
    expect(key(s.mod(s.add(s.mul(x, 4), inum(6)), 4))).toBe('2');
  });

  test('an operand that can be negative: (x - 1) % 5 is left alone, (x - 1) / 5 keeps floor semantics', () => {
    const s = sym({ x: 5 });
    const e = s.add(x, inum(-1));
    expect(s.mod(e, 5).k).toBe('mod');
    // floor((x - 1) / 5) = -1 + floor((x + 4) / 5): a non-negative operand, exact for every x.
    const q = s.div(e, 5);
    expect(key(q)).toBe('(((x+4)/5)+-1)');
    for (let v = 0; v < 5; v++) expect(evaluate(q, { x: v }, 'js')).toBe(Math.floor((v - 1) / 5));
  });
  test('(4 - y) % 5 folds for y in [0, 4]; (5 - y) % 5 does not for y in [0, 5]', () => {
    const s4 = sym({ y: 5 });
    expect(key(s4.mod(s4.add(inum(4), s4.mul(y, -1)), 5))).toBe('((y*-1)+4)');
    const s5 = sym({ y: 6 });
    const e = s5.mod(s5.add(inum(5), s5.mul(y, -1)), 5);
    expect(e.k).toBe('mod');
    expect(evaluate(e, { y: 0 }, 'js')).toBe(0);
  });

  test('the range of x % n is [0, n - 1] once x can reach n', () => {
    const s = sym({ x: 6 });
    expect(s.range(s.mod(x, 5))).toEqual([0, 4]);
    const s5 = sym({ x: 5 });
    expect(s5.range(s5.mod(s5.add(x, inum(-1)), 5)), 'an operand that may be negative').toEqual([0, 4]);
    expect(s.range(s.div(x, 5))).toEqual([0, 1]);
  });
});

describe('div and mod simplification', () => {
  const s = sym({ x: 30, y: 7 });
  test('by 1, of constants, and a multiplication by 0', () => {
    expect(key(s.div(x, 1))).toBe('x');
    expect(key(s.mod(x, 1))).toBe('0');
    expect(key(s.div(inum(17), 5))).toBe('3');
    expect(key(s.mod(inum(17), 5))).toBe('2');
    expect(key(s.mod(inum(-3), 5))).toBe('2');
    expect(key(s.mul(s.add(x, y), 0))).toBe('0');
  });
  test('nested divisions merge: (x / 2) / 3 = x / 6', () => {
    expect(key(s.div(s.div(x, 2), 3))).toBe('(x/6)');
  });
  test('x / n · n + x % n recombines to x, and only with matching coefficients', () => {
    expect(key(s.add(s.mul(s.div(x, 4), 4), s.mod(x, 4)))).toBe('x');
    const off = s.add(s.mul(s.div(x, 4), 3), s.mod(x, 4));
    expect(key(off)).not.toBe('x');
    for (let v = 0; v < 30; v++) expect(evaluate(off, { x: v }, 'js')).toBe(Math.floor(v / 4) * 3 + (v % 4));
    expect(key(s.add(s.mul(s.div(s.add(x, y), 3), 6), s.mul(s.mod(s.add(x, y), 3), 2)))).toBe('((x*2)+(y*2))');
  });
  test('(x / 2) % 3 + (x / 6) · 3 is x / 2, the middle digits of an unravel; not with another coefficient', () => {
    expect(key(s.add(s.mod(s.div(x, 2), 3), s.mul(s.div(x, 6), 3)))).toBe('(x/2)');
    const off = s.add(s.mod(s.div(x, 2), 3), s.mul(s.div(x, 6), 2));
    expect(key(off)).not.toBe('(x/2)');
    for (let v = 0; v < 30; v++) expect(evaluate(off, { x: v }, 'js')).toBe((Math.floor(v / 2) % 3) + Math.floor(v / 6) * 2);
  });
  test('like terms collect and cancel', () => {
    expect(key(s.add(s.mul(x, 3), s.mul(x, -3)))).toBe('0');
    expect(key(s.add(s.add(x, inum(2)), s.add(x, inum(-2))))).toBe('(x*2)');
  });
});

describe('ravel and unravel', () => {
  const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 });

  test('ravel(unravel(f)) is f itself', () => {
    fc.assert(fc.property(shapeArb, (shape) => {
      const n = ref.numel(shape);
      const s = sym({ f: n });
      const back = s.ravel(s.unravel(ivar('f'), shape), shape);
      expect(key(back), JSON.stringify(shape)).toBe(n === 1 ? '0' : 'f');
    }), { numRuns: 200 });
  });

  test('unravel(ravel(coords)) is the coordinates themselves (size-1 dims read 0)', () => {
    fc.assert(fc.property(shapeArb, (shape) => {
      const vars = shape.map((_, i) => `c${i}`);
      const s = sym(Object.fromEntries(vars.map((v, i) => [v, shape[i]!])));
      const coords = shape.map((d, i) => (d === 1 ? inum(0) : ivar(vars[i]!)));
      expect(s.unravel(s.ravel(coords, shape), shape).map(key), JSON.stringify(shape)).toEqual(coords.map(key));
    }), { numRuns: 200 });
  });

  test('a reshape (unravel of a ravel into another shape) gives the reference coordinates everywhere', () => {
    const reshapeArb = shapeArb.chain((from) => {
      const n = ref.numel(from);
      // A target shape of the same size: the size's factors dealt out over 1–4 dims.
      const factors: number[] = [];
      for (let m = n, p = 2; m > 1; p++) while (m % p === 0) { factors.push(p); m /= p; }
      return fc.tuple(fc.constant(from), fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(), { minLength: factors.length, maxLength: factors.length }))
        .map(([f, rank, picks]) => {
          const to = new Array<number>(rank).fill(1);
          factors.forEach((p, i) => { to[picks[i]! % rank]! *= p; });
          return [f, to] as const;
        });
    });
    fc.assert(fc.property(reshapeArb, ([from, to]) => {
      const vars = from.map((_, i) => `c${i}`);
      const sizes = new Map(vars.map((v, i) => [v, from[i]!]));
      const s = new Symbolic(sizes);
      const coords = from.map((d, i) => (d === 1 ? inum(0) : ivar(vars[i]!)));
      const out = s.unravel(s.ravel(coords, from), to);
      for (const env of assignments(sizes)) {
        const want = ref.unravel(ref.ravel(vars.map((v) => env[v]!), from), to);
        const got = out.map((e) => evaluate(e, env, 'js'));
        if (got.some((g, i) => g !== want[i])) expect(got, `${JSON.stringify(from)} → ${JSON.stringify(to)} at ${JSON.stringify(env)}`).toEqual(want);
      }
    }), { numRuns: 200 });
  });
});

// ---------------------------------------------------------------- random expressions

/** How an expression is built: the calls the scheduler makes, as data. */
type Recipe =
  | { op: 'var'; name: string }
  | { op: 'num'; n: number }
  | { op: 'add'; a: Recipe; b: Recipe }
  | { op: 'mul'; a: Recipe; n: number }
  | { op: 'div'; a: Recipe; n: number }
  | { op: 'mod'; a: Recipe; n: number };

const VARS = ['x', 'y', 'z'];
const { recipe } = fc.letrec<{ recipe: Recipe }>((tie) => ({
  recipe: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...VARS).map((name): Recipe => ({ op: 'var', name })),
    fc.integer({ min: -3, max: 9 }).map((n): Recipe => ({ op: 'num', n })),
    fc.record({ op: fc.constant('add' as const), a: tie('recipe'), b: tie('recipe') }),
    fc.record({ op: fc.constant('mul' as const), a: tie('recipe'), n: fc.integer({ min: -3, max: 6 }) }),
    fc.record({ op: fc.constant('div' as const), a: tie('recipe'), n: fc.integer({ min: 1, max: 7 }) }),
    fc.record({ op: fc.constant('mod' as const), a: tie('recipe'), n: fc.integer({ min: 1, max: 7 }) }),
  ),
}));

function build(r: Recipe, s: Symbolic): Index {
  switch (r.op) {
    case 'var': return ivar(r.name);
    case 'num': return inum(r.n);
    case 'add': return s.add(build(r.a, s), build(r.b, s));
    case 'mul': return s.mul(build(r.a, s), r.n);
    case 'div': return s.div(build(r.a, s), r.n);
    case 'mod': return s.mod(build(r.a, s), r.n);
  }
}

/** The recipe's value with floor semantics, and whether every division in it saw a non-negative operand. */
function direct(r: Recipe, env: Env): { v: number; nonNegative: boolean } {
  switch (r.op) {
    case 'var': return { v: env[r.name]!, nonNegative: true };
    case 'num': return { v: r.n, nonNegative: true };
    case 'add': { const a = direct(r.a, env), b = direct(r.b, env); return { v: a.v + b.v, nonNegative: a.nonNegative && b.nonNegative }; }
    case 'mul': { const a = direct(r.a, env); return { v: a.v * r.n, nonNegative: a.nonNegative }; }
    case 'div': { const a = direct(r.a, env); return { v: Math.floor(a.v / r.n), nonNegative: a.nonNegative && a.v >= 0 }; }
    case 'mod': { const a = direct(r.a, env); return { v: floorMod(a.v, r.n), nonNegative: a.nonNegative && a.v >= 0 }; }
  }
}

const sizesArb = fc.tuple(...VARS.map(() => fc.integer({ min: 1, max: 7 }))).map((ds) => new Map(VARS.map((v, i) => [v, ds[i]!])));

describe('random expressions against brute force', () => {
  test('the simplified expression has the value of the expression as built, and lies in its range', () => {
    let folded = 0;
    fc.assert(fc.property(recipe, sizesArb, (r, sizes) => {
      const s = new Symbolic(sizes);
      const e = build(r, s);
      const [lo, hi] = s.range(e);
      if (key(e).length < JSON.stringify(r).length / 4) folded++;
      for (const env of assignments(sizes)) {
        const want = direct(r, env);
        want.v += 0; // -0 is 0
        const floor = evaluate(e, env, 'floor');
        // The kernels print truncating division: exact wherever the original only divided
        // non-negative values (the scheduler's contract with this module).
        const js = want.nonNegative ? evaluate(e, env, 'js') : want.v;
        if (floor === want.v && js === want.v && want.v >= lo && want.v <= hi) continue;
        const at = `${key(e)} at ${JSON.stringify(env)}`;
        expect(floor, `floor semantics: ${at}`).toBe(want.v);
        expect(js, `JS semantics: ${at}`).toBe(want.v);
        expect(want.v >= lo && want.v <= hi, `${want.v} outside the range [${lo}, ${hi}] of ${at}`).toBe(true);
      }
    }), { numRuns: 1000 });
    expect(folded, 'the generator reaches expressions that simplify').toBeGreaterThan(50);
  });
});
