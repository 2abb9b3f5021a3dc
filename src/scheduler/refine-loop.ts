/**
 * A lowering pass for elementwise kernels: the loop over the output is split more finely where
 * an input is read through a permutation that crosses the output's dims. A gradient copied into
 * a matmul's layout (a convolution's [N, C, H, W] output gradient as [C, N·H·W]) otherwise
 * computes each element's source with divisions and remainders of the flat coordinate; looping
 * over [C, N, H·W] makes every read affine in the loop variables, with a contiguous inner run.
 * The output is still written contiguously: only the loop's shape changes, not its numel.
 */
import { partsOf, type ExprRef, type Index, type Scalar } from '../kernel/ir.js';

/** The divisors n of every x / n and x mod n whose x involves loop variable `v`. */
function divisorsOf(value: Scalar, v: string): Set<number> {
  const out = new Set<number>();
  const seen = new Set<object>();
  const has = (i: Index): boolean => {
    switch (i.k) {
      case 'var': return i.name === v;
      case 'num': case 'val': return false;
      case 'add': return has(i.a) || has(i.b);
      default: return has(i.a);
    }
  };
  const visit = (e: ExprRef): void => {
    const o = 'index' in e ? e.index : e.scalar;
    if (seen.has(o)) return;
    seen.add(o);
    if ('index' in e && (e.index.k === 'div' || e.index.k === 'mod') && has(e.index.a)) out.add(e.index.n);
    const { scalars, indices } = partsOf(e);
    for (const s of scalars) visit({ scalar: s });
    for (const i of indices) visit({ index: i });
  };
  visit({ scalar: value });
  return out;
}

/** How many distinct divisors `value` applies to its loop variables (each costs divisions per element). */
export function indexDivisions(value: Scalar, vars: readonly string[]): number {
  let n = 0;
  for (const v of vars) n += divisorsOf(value, v).size;
  return n;
}

/**
 * Candidate finer loops for `loop`, whose innermost non-unit dim the kernel's reads divide by
 * some of `value`'s divisors: that dim split at one divisor, and at the whole chain of them that
 * nest (each dividing the next). Empty when no read divides the innermost dim.
 */
export function refinedLoops(value: Scalar, loop: readonly number[]): number[][] {
  let last = loop.length - 1;
  while (last >= 0 && loop[last] === 1) last--;
  if (last < 0) return [];
  const D = loop[last]!;
  const ds = [...divisorsOf(value, `o${last}`)].filter((n) => n > 1 && n < D && D % n === 0).sort((a, b) => a - b);
  if (!ds.length) return [];
  const splitAt = (chain: number[]): number[] => {
    const dims: number[] = [];
    let rest = D;
    for (let i = chain.length - 1; i >= 0; i--) {
      dims.push(rest / chain[i]!);
      rest = chain[i]!;
    }
    dims.push(rest);
    return [...loop.slice(0, last), ...dims, ...loop.slice(last + 1)];
  };
  const out = ds.map((d) => splitAt([d]));
  const chain = ds.filter((d, i) => ds.every((e, j) => j >= i || d % e === 0));
  if (chain.length > 1) out.push(splitAt(chain));
  return out;
}

/**
 * The loop an elementwise kernel over `loop` should run, and the value lowered for it: `lowerAt`
 * lowers the kernel for a candidate loop (its value over that loop's variables o0, o1, …). A
 * candidate is taken only if it removes divisions; the fewest divisions, then the fewest dims, win.
 */
export function chooseLoop<T extends { value: Scalar }>(
  loop: readonly number[], first: T, lowerAt: (loop: readonly number[]) => T,
): { loop: readonly number[]; lowered: T } {
  const vars = (l: readonly number[]): string[] => l.map((_, i) => `o${i}`);
  let best = { loop, lowered: first, divs: indexDivisions(first.value, vars(loop)) };
  if (best.divs === 0) return best;
  // Candidates are few (one per divisor of the innermost dim): each is lowered and counted.
  for (const cand of refinedLoops(first.value, loop)) {
    const lowered = lowerAt(cand);
    const divs = indexDivisions(lowered.value, vars(cand));
    if (divs < best.divs || (divs === best.divs && best.loop !== loop && cand.length < best.loop.length)) {
      best = { loop: cand, lowered, divs };
    }
  }
  return best;
}
