/**
 * Added and special tokens: strings matched in the raw text before any normalisation or BPE, so
 * `<|endoftext|>` or `</s>` becomes one id instead of a dozen pieces.
 */

/** A token matched as a whole in the input. */
export interface AddedToken {
  readonly id: number;
  readonly content: string;
  /**
   * Control tokens (BOS, EOS, `<|endoftext|>`, chat markers) are matched only when encode is asked
   * to (`{ specials: true }`), so user text cannot forge them; other added tokens always match.
   */
  readonly special: boolean;
  /** Swallow the whitespace before / after the token (Hugging Face's lstrip / rstrip). */
  readonly lstrip?: boolean;
  readonly rstrip?: boolean;
}

/** Input cut at the added tokens: text fragments and token ids, in order. */
export type Fragment = { readonly text: string } | { readonly token: AddedToken };

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

export class SpecialMatcher {
  private readonly byContent = new Map<string, AddedToken>();
  private readonly re: RegExp | null;

  constructor(readonly tokens: readonly AddedToken[]) {
    for (const t of tokens) if (t.content) this.byContent.set(t.content, t);
    // Longest first: at one position the longest token wins (`<|im_start|>` over `<|im`).
    const alts = [...this.byContent.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.re = alts.length ? new RegExp(alts.join('|'), 'gu') : null;
  }

  /** Cuts `text` at the tokens it may match; `specials` admits control tokens too. */
  split(text: string, specials: boolean): Fragment[] {
    if (!this.re || !text) return text ? [{ text }] : [];
    const out: Fragment[] = [];
    const re = this.re;
    let last = 0;
    let stripNext = false;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const token = this.byContent.get(m[0])!;
      if (token.special && !specials) { re.lastIndex = m.index + 1; continue; }
      let before = text.slice(last, m.index);
      if (stripNext) before = before.trimStart();
      if (token.lstrip) before = before.trimEnd();
      if (before) out.push({ text: before });
      out.push({ token });
      last = m.index + m[0].length;
      stripNext = token.rstrip === true;
    }
    let tail = text.slice(last);
    if (stripNext) tail = tail.trimStart();
    if (tail) out.push({ text: tail });
    return out;
  }
}
