// A naive attention in plain JS (float64): the independent reference of the attention tests.
// Shapes: q [B, H, L, E], k [B, Hkv, S, E], v [B, Hkv, S, Ev] (H a multiple of Hkv: query head h
// reads kv head ⌊h / (H / Hkv)⌋), mask [L, S] (bool: true attends; float: added), kvLength: keys
// ≥ kvLength hidden and causal aligned to the last kvLength (query i at kvLength - L + i).
export interface RefCase {
  B: number; H: number; Hkv: number; L: number; S: number; E: number; Ev: number;
  causal?: boolean; boolMask?: ArrayLike<number>; addMask?: ArrayLike<number>; kvLength?: number; scale?: number;
}

export function naiveAttention(c: RefCase, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>): Float64Array {
  const { B, H, Hkv, L, S, E, Ev } = c;
  const scale = c.scale ?? 1 / Math.sqrt(E);
  const len = c.kvLength ?? S;
  const off = c.kvLength === undefined ? 0 : len - L;
  const out = new Float64Array(B * H * L * Ev);
  const w = new Float64Array(S);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const kh = Math.floor(h / (H / Hkv));
    for (let i = 0; i < L; i++) {
      let mx = -Infinity;
      for (let j = 0; j < S; j++) {
        let s = 0;
        for (let d = 0; d < E; d++) s += q[((b * H + h) * L + i) * E + d]! * k[((b * Hkv + kh) * S + j) * E + d]!;
        s *= scale;
        if (j >= len || (c.causal && j > i + off) || (c.boolMask && !c.boolMask[i * S + j])) s = -Infinity;
        if (c.addMask) s += c.addMask[i * S + j]!;
        w[j] = s;
        mx = Math.max(mx, s);
      }
      let sum = 0;
      for (let j = 0; j < S; j++) sum += (w[j] = Math.exp(w[j]! - mx));
      for (let e = 0; e < Ev; e++) {
        let y = 0;
        for (let j = 0; j < S; j++) y += w[j]! * v[((b * Hkv + kh) * S + j) * Ev + e]!;
        out[((b * H + h) * L + i) * Ev + e] = y / sum;
      }
    }
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return NaN;
    m = Math.max(m, d);
  }
  return m;
}
