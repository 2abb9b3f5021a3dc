/**
 * The BPE merge engine shared by every tokenizer: symbols in a doubly linked list, candidate pairs in
 * a binary heap ordered by (rank, position), so a word of n symbols costs O(n log n) instead of the
 * O(n²) of rescanning all pairs after each merge.
 *
 * A rank is "lower merges first": a merge-list index (Hugging Face, GGUF gpt2), a token rank
 * (tiktoken), or minus a SentencePiece score. Equal ranks merge leftmost first, which is what
 * SentencePiece, tiktoken and Hugging Face all do.
 */

/** Ids fit in 21 bits; a pair packs into one exact float key (left · 2^21 + right < 2^42). */
const PAIR_SHIFT = 2 ** 21;
export const MAX_VOCAB = PAIR_SHIFT;

/** A pair's merge found on demand: [merged id, rank], or null when the pair does not merge. */
export type PairResolver = (left: number, right: number) => readonly [number, number] | null;

/**
 * Which adjacent pairs merge, into what, and how early: rules added up front, or looked up on
 * demand by a resolver (tiktoken: is the concatenation a token?) and remembered, misses included.
 */
export class MergeTable {
  private readonly index = new Map<number, number>();
  private readonly merged: number[] = [];
  private readonly ranks: number[] = [];

  constructor(private readonly resolve?: PairResolver) {}

  get size(): number { return this.merged.length; }

  /** Adds left+right → id at `rank`; a pair already present keeps its earlier (lower) rank. */
  add(left: number, right: number, id: number, rank: number): void {
    const key = left * PAIR_SHIFT + right;
    const at = this.index.get(key);
    if (at !== undefined) {
      if (rank < this.ranks[at]!) { this.ranks[at] = rank; this.merged[at] = id; }
      return;
    }
    this.index.set(key, this.merged.length);
    this.merged.push(id);
    this.ranks.push(rank);
  }

  /** The slot of a pair, or -1; negative ids (symbols outside the vocabulary) never merge. */
  find(left: number, right: number): number {
    if (left < 0 || right < 0) return -1;
    const key = left * PAIR_SHIFT + right;
    const at = this.index.get(key);
    if (at !== undefined || !this.resolve) return at ?? -1;
    const found = this.resolve(left, right);
    const slot = found ? this.merged.length : -1;
    if (found) { this.merged.push(found[0]); this.ranks.push(found[1]); }
    this.index.set(key, slot);
    return slot;
  }
  rankAt(slot: number): number { return this.ranks[slot]!; }
  idAt(slot: number): number { return this.merged[slot]!; }
}

/** A min-heap of candidate merges in parallel arrays (no object per entry). */
class PairHeap {
  rank: number[] = [];
  pos: number[] = [];
  left: number[] = [];
  right: number[] = [];
  get length(): number { return this.rank.length; }

  private less(i: number, j: number): boolean {
    const a = this.rank[i]!, b = this.rank[j]!;
    return a < b || (a === b && this.pos[i]! < this.pos[j]!);
  }
  private swap(i: number, j: number): void {
    for (const arr of [this.rank, this.pos, this.left, this.right]) { const t = arr[i]!; arr[i] = arr[j]!; arr[j] = t; }
  }
  push(rank: number, pos: number, left: number, right: number): void {
    this.rank.push(rank); this.pos.push(pos); this.left.push(left); this.right.push(right);
    let i = this.rank.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Removes the top; its fields are read before calling. */
  pop(): void {
    const last = this.rank.length - 1;
    if (last > 0) this.swap(0, last);
    this.rank.pop(); this.pos.pop(); this.left.pop(); this.right.pop();
    const n = this.rank.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

/**
 * Merges `symbols` (token ids; negative ones are opaque and never merge) as far as `table` allows
 * and returns the resulting ids in order.
 */
export function bpeMerge(symbols: readonly number[], table: MergeTable): number[] {
  const n = symbols.length;
  if (n < 2) return symbols.slice();
  const ids = Int32Array.from(symbols);
  const prev = new Int32Array(n), next = new Int32Array(n);
  const heap = new PairHeap();
  for (let i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
  const consider = (l: number): void => {
    const r = next[l]!;
    if (r < 0) return;
    const slot = table.find(ids[l]!, ids[r]!);
    // The position is the left symbol's original index: merged symbols keep it, so ties stay leftmost.
    if (slot >= 0) heap.push(table.rankAt(slot), l, ids[l]!, ids[r]!);
  };
  for (let i = 0; i + 1 < n; i++) consider(i);
  while (heap.length > 0) {
    const l = heap.pos[0]!, leftId = heap.left[0]!, rightId = heap.right[0]!;
    heap.pop();
    const r = next[l]!;
    // Stale entries (a side merged away since it was queued) are skipped, not removed eagerly.
    if (ids[l] !== leftId || r < 0 || ids[r] !== rightId) continue;
    ids[l] = table.idAt(table.find(leftId, rightId));
    ids[r] = -(2 ** 31);
    const rr = next[r]!;
    next[l] = rr;
    if (rr >= 0) prev[rr] = l;
    if (prev[l]! >= 0) consider(prev[l]!);
    consider(l);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
  return out;
}
