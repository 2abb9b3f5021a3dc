/**
 * Which steps of a plan must wait for which: the hazards between kernels by the buffers they
 * touch. A step waits for every earlier step that writes a buffer it reads (read after write),
 * reads a buffer it writes (write after read: a store overwrites a leaf that earlier kernels
 * read), or writes a buffer it writes. Buffers are named by the node that owns them: a plain
 * reshape shares its source's (the plan's aliases), a store writes its target's, and realised
 * leaves holding one buffer share it. Temporaries that the device hands out again once their
 * readers are done need no edge: a buffer is only reused after it was freed.
 *
 * A step may start once the steps it waits for are done, so independent kernels overlap
 * (several small pool kernels at once, an inline kernel beside a pool one), and any order that
 * keeps these edges touches every buffer as the plan order does (orderStores' order among
 * stores included).
 */
import type { LazyNode } from '../graph/node.js';
import { stepOutputs, type Plan } from './schedule.js';

export interface StepGraph {
  /** Per step: the earlier steps it waits for (direct hazards only), ascending. */
  readonly after: readonly (readonly number[])[];
  /** Per topological index: how many steps read it (a temporary is freed when the last is done). */
  readonly readers: readonly number[];
}

export function stepGraph(p: Plan, order: readonly LazyNode[]): StepGraph {
  const owner = order.map((_, i) => i);
  const holder = new Map<unknown, number>();
  order.forEach((n, i) => {
    if (!n.realized) return;
    const h = holder.get(n.realized);
    if (h === undefined) holder.set(n.realized, i); else owner[i] = h;
  });
  const alias = new Map(p.aliases.map(([a, b]) => [a, b] as const));
  for (const o of p.steps.flatMap(stepOutputs)) if (o.target !== null) alias.set(o.output, o.target);
  const bufOf = (j: number): number => {
    let k = j;
    for (let guard = 0; alias.has(k) && guard <= alias.size; guard++) k = alias.get(k)!;
    return owner[k]!;
  };
  const lastWriter = new Map<number, number>();
  const readersSince = new Map<number, number[]>();
  const readers = new Array<number>(order.length).fill(0);
  const after = p.steps.map((s, si) => {
    const deps = new Set<number>();
    for (const j of s.inputIdx) {
      readers[j]!++;
      const w = lastWriter.get(bufOf(j));
      if (w !== undefined) deps.add(w);
    }
    // A multi-output kernel writes every one of its outputs (Kernel.extraOutputs).
    const outs = stepOutputs(s).map((o) => bufOf(o.output));
    for (const out of outs) {
      const w = lastWriter.get(out);
      if (w !== undefined) deps.add(w);
      for (const r of readersSince.get(out) ?? []) if (r !== si) deps.add(r);
    }
    for (const j of s.inputIdx) {
      const b = bufOf(j);
      const rs = readersSince.get(b);
      if (rs) rs.push(si); else readersSince.set(b, [si]);
    }
    for (const out of outs) {
      lastWriter.set(out, si);
      readersSince.set(out, []);
    }
    return [...deps].sort((a, b) => a - b);
  });
  return { after, readers };
}

/**
 * Per step, the later steps that may run while it does, when steps start as soon as what they
 * wait for is done and at most `window` steps apart: neither waits for the other (directly or
 * through steps between them), and one of them runs off the calling thread (two inline kernels
 * never overlap).
 */
export function overlapping(g: StepGraph, inline: readonly boolean[], window: number): number[][] {
  const n = g.after.length;
  // Ancestors of each step among the `window` steps before it.
  const ancestors: Set<number>[] = [];
  for (let j = 0; j < n; j++) {
    const a = new Set<number>();
    for (const d of g.after[j]!) {
      if (d < j - window) continue;
      a.add(d);
      for (const x of ancestors[d]!) if (x >= j - window) a.add(x);
    }
    ancestors.push(a);
  }
  return g.after.map((_, i) => {
    const out: number[] = [];
    for (let j = i + 1; j < n && j <= i + window; j++) {
      if ((!inline[i] || !inline[j]) && !ancestors[j]!.has(i)) out.push(j);
    }
    return out;
  });
}
