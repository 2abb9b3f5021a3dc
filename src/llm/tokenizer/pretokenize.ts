/**
 * Pre-tokenizers: split text into the pieces BPE runs on. Byte-level BPE never merges across
 * pieces, so this split decides a lot of the ids; the patterns are the ones the models were
 * trained with, written for JavaScript's engine (`u` flag, `\p{L}` and friends).
 */

/** A pre-tokenizer: text in, pieces out, nothing dropped unless the configuration says so. */
export type PreTokenizer = (text: string) => string[];

/** GPT-2, GPT-J, RoBERTa and everything else with a plain `ByteLevel` pre-tokenizer. */
export const GPT2_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
/** cl100k_base (GPT-3.5/4) and LLaMA-3: case-insensitive contractions, digits in threes. */
export const CL100K_PATTERN = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
/** Qwen2: cl100k's pattern with single digits. */
export const QWEN2_PATTERN = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
/** o200k_base (GPT-4o): case-aware words with trailing contractions. */
export const O200K_PATTERN = [
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`\p{N}{1,3}`, String.raw` ?[^\s\p{L}\p{N}]+[\r\n/]*`, String.raw`\s*[\r\n]+`, String.raw`\s+(?!\S)`, String.raw`\s+`,
].join('|');

/**
 * Rewrites a pattern written for Rust's `regex`/`fancy-regex` or Python's `regex` (what tiktoken and
 * Hugging Face run) into an equivalent JavaScript one:
 * - `\s`/`\S` become `\p{White_Space}`/`\P{White_Space}`, `\d`/`\D` become `\p{Nd}`/`\P{Nd}`: JavaScript's
 *   `\s` differs from Unicode's White_Space on U+0085 and U+FEFF and its `\d` is ASCII only;
 * - `(?i:…)` groups (no inline modifiers in Node 20) get both cases of each ASCII letter spelled out;
 * - possessive quantifiers (`?+`, `++`, `*+`) lose the `+`: in these patterns what follows them can
 *   never match what they consumed, so backtracking changes nothing.
 */
export function toJsPattern(src: string): string {
  let out = '', inClass = false, foldDepth = 0, depth = 0;
  const foldStack: number[] = [];
  let afterQuantifier = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length) {
      const e = src[++i]!;
      const map: Record<string, string> = { s: '\\p{White_Space}', S: '\\P{White_Space}', d: '\\p{Nd}', D: '\\P{Nd}' };
      out += map[e] ?? (e === 'p' || e === 'P' ? readProperty(src, i, (len) => { i += len; }) : '\\' + e);
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += foldDepth > 0 && /[a-zA-Z]/.test(c) ? c.toLowerCase() + c.toUpperCase() : c;
      continue;
    }
    if (c === '+' && afterQuantifier) { afterQuantifier = false; continue; }
    afterQuantifier = c === '?' || c === '+' || c === '*' || c === '}';
    if (c === '[') { inClass = true; out += c; continue; }
    if (c === '(') {
      depth++;
      if (src.startsWith('(?i:', i)) { foldStack.push(depth); foldDepth++; out += '(?:'; i += 3; continue; }
      out += c;
      continue;
    }
    if (c === ')') {
      if (foldStack[foldStack.length - 1] === depth) { foldStack.pop(); foldDepth--; }
      depth--;
      out += c;
      continue;
    }
    out += foldDepth > 0 && /[a-zA-Z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c;
  }
  return out;
}

/** Copies a `\p{…}` escape whole (its letters must not be case-folded); `i` points at the `p`. */
function readProperty(src: string, i: number, advance: (len: number) => void): string {
  const close = src.indexOf('}', i);
  if (src[i + 1] !== '{' || close < 0) return '\\' + src[i];
  advance(close - i);
  return '\\' + src.slice(i, close + 1);
}

/** Splits on every match of a pattern; text between matches (none, for the patterns above) is kept too. */
export function regexPreTokenizer(pattern: string): PreTokenizer {
  const re = new RegExp(toJsPattern(pattern), 'gu');
  return (text) => splitBy(re, text, 'isolated');
}

type Behavior = 'isolated' | 'removed' | 'mergedwithprevious' | 'mergedwithnext' | 'contiguous';

function splitBy(re: RegExp, text: string, behavior: Behavior): string[] {
  const out: string[] = [];
  let last = 0;
  let pendingMatch = '';
  let lastWasMatch = false;
  for (const m of text.matchAll(re)) {
    const start = m.index, match = m[0];
    if (match.length === 0) continue;
    const gap = text.slice(last, start);
    last = start + match.length;
    if (behavior === 'removed') { if (gap) out.push(gap); continue; }
    if (behavior === 'mergedwithprevious') { out.push(gap + match); continue; }
    if (behavior === 'mergedwithnext') { if (gap || pendingMatch) out.push(pendingMatch + gap); pendingMatch = match; continue; }
    if (gap) { out.push(gap); lastWasMatch = false; }
    if (behavior === 'contiguous' && lastWasMatch) out[out.length - 1] += match;
    else out.push(match);
    lastWasMatch = true;
  }
  const tail = text.slice(last);
  if (behavior === 'mergedwithnext') { if (pendingMatch || tail) out.push(pendingMatch + tail); }
  else if (tail) out.push(tail);
  return out;
}

/** The parts of a Hugging Face `tokenizer.json` pre_tokenizer this reader understands. */
export interface HfPreTokenizerConfig {
  readonly type: string;
  readonly pretokenizers?: readonly HfPreTokenizerConfig[];
  readonly pattern?: { readonly Regex?: string; readonly String?: string };
  readonly behavior?: string;
  readonly invert?: boolean;
  readonly add_prefix_space?: boolean;
  readonly use_regex?: boolean;
  readonly individual_digits?: boolean;
}

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/** Builds a pre-tokenizer from a `tokenizer.json` pre_tokenizer object (null: the whole text is one piece). */
export function hfPreTokenizer(cfg: HfPreTokenizerConfig | null | undefined): PreTokenizer {
  if (!cfg) return (text) => (text ? [text] : []);
  switch (cfg.type) {
    case 'Sequence': {
      const stages = (cfg.pretokenizers ?? []).map(hfPreTokenizer);
      return (text) => stages.reduce<string[]>((pieces, stage) => pieces.flatMap(stage), text ? [text] : []);
    }
    case 'ByteLevel': {
      const split = cfg.use_regex === false ? null : regexPreTokenizer(GPT2_PATTERN);
      const prefix = cfg.add_prefix_space === true;
      return (text) => {
        const t = prefix && !text.startsWith(' ') ? ' ' + text : text;
        return split ? split(t) : t ? [t] : [];
      };
    }
    case 'Split': {
      if (cfg.invert) throw new Error('tokenizer.json: Split pre-tokenizer with invert: true is not supported');
      const src = cfg.pattern?.Regex ?? (cfg.pattern?.String !== undefined ? escapeRegex(cfg.pattern.String) : undefined);
      if (src === undefined) throw new Error('tokenizer.json: Split pre-tokenizer without a pattern');
      const re = new RegExp(toJsPattern(src), 'gu');
      const behavior = (cfg.behavior ?? 'Isolated').toLowerCase() as Behavior;
      if (!['isolated', 'removed', 'mergedwithprevious', 'mergedwithnext', 'contiguous'].includes(behavior)) {
        throw new Error(`tokenizer.json: Split behavior "${cfg.behavior}" is not supported`);
      }
      return (text) => splitBy(re, text, behavior);
    }
    case 'Digits': {
      const re = cfg.individual_digits ? /\p{N}/gu : /\p{N}+/gu;
      return (text) => splitBy(re, text, 'isolated');
    }
    default:
      throw new Error(`tokenizer.json: pre-tokenizer "${cfg.type}" is not supported (ByteLevel, Split, Digits and Sequence are)`);
  }
}
