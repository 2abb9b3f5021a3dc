// The merge engine against a naive quadratic BPE, the pattern translation, the special-token
// splitter, and the loaders' other paths (GGUF gpt2, tokenizer.json Split/Sequence and added tokens).
import fc from 'fast-check';
import { getEncoding } from 'js-tiktoken';
import { describe, expect, test } from 'vitest';
import { MergeTable, bpeMerge } from '../../src/llm/tokenizer/bpe.js';
import { hfPreTokenizer } from '../../src/llm/tokenizer/pretokenize.js';
import { SpecialMatcher } from '../../src/llm/tokenizer/specials.js';
import { utf8Pieces } from '../../src/llm/tokenizer/utf8.js';
import { gpt2TokenizerJson, llamaGguf, tk } from './tokenizer-fixtures.js';

/** The textbook algorithm: rescan every pair, merge the lowest rank (leftmost on ties), repeat. */
function naiveBpe(symbols: number[], rules: Map<string, { id: number; rank: number }>): number[] {
  const s = symbols.slice();
  for (;;) {
    let best = -1, bestRank = Infinity;
    for (let i = 0; i + 1 < s.length; i++) {
      const r = rules.get(`${s[i]},${s[i + 1]}`);
      if (r && r.rank < bestRank) { best = i; bestRank = r.rank; }
    }
    if (best < 0) return s;
    s.splice(best, 2, rules.get(`${s[best]},${s[best + 1]}`)!.id);
  }
}

describe('merge engine', () => {
  test('property: equals the quadratic rescan on random rule sets (ties included)', () => {
    const rule = fc.record({ l: fc.integer({ min: 0, max: 5 }), r: fc.integer({ min: 0, max: 5 }), id: fc.integer({ min: 0, max: 12 }), rank: fc.integer({ min: 0, max: 6 }) });
    fc.assert(fc.property(fc.array(rule, { maxLength: 30 }), fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 40 }), (rules, symbols) => {
      const table = new MergeTable();
      const map = new Map<string, { id: number; rank: number }>();
      for (const { l, r, id, rank } of rules) {
        table.add(l, r, id, rank);
        const k = `${l},${r}`, old = map.get(k);
        if (!old || rank < old.rank) map.set(k, { id, rank });
      }
      expect(bpeMerge(symbols, table)).toEqual(naiveBpe(symbols, map));
    }), { numRuns: 500 });
  });
});

describe('pre-tokenizer patterns', () => {
  test('Rust/Python spellings become JavaScript ones', () => {
    expect(tk.toJsPattern(String.raw`(?i:'s|'t)|\s+(?!\S)|\d`)).toBe(String.raw`(?:'[sS]|'[tT])|\p{White_Space}+(?!\P{White_Space})|\p{Nd}`);
    expect(tk.toJsPattern(String.raw`[^\r\n\p{L}\p{N}]?+\p{L}+`)).toBe(String.raw`[^\r\n\p{L}\p{N}]?\p{L}+`);
    expect(new RegExp(tk.toJsPattern(tk.CL100K_PATTERN), 'gu').test("DON'T")).toBe(true);
  });

  test("tokenizer.json Split + ByteLevel(use_regex: false) (LLaMA-3's layout) splits like the pattern", () => {
    const pre = hfPreTokenizer({ type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: tk.CL100K_PATTERN }, behavior: 'Isolated' },
      { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
    ] });
    expect(pre("Hello world's 12345!!\n\n  x")).toEqual(['Hello', ' world', "'s", ' ', '123', '45', '!!\n\n', ' ', ' x']);
    expect(hfPreTokenizer({ type: 'Digits', individual_digits: true })('a12b')).toEqual(['a', '1', '2', 'b']);
    expect(hfPreTokenizer({ type: 'Split', pattern: { String: '-' }, behavior: 'Removed' })('a-b--c')).toEqual(['a', 'b', 'c']);
    expect(hfPreTokenizer({ type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithPrevious' })('a-b-')).toEqual(['a-', 'b-']);
    expect(hfPreTokenizer({ type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithNext' })('a-b-')).toEqual(['a', '-b', '-']);
    expect(() => hfPreTokenizer({ type: 'Whitespace' })).toThrow(/"Whitespace" is not supported/);
  });
});

describe('special tokens and raw bytes', () => {
  test('longest token wins; lstrip/rstrip eat whitespace; control tokens need specials', () => {
    const m = new SpecialMatcher([
      { id: 1, content: '<|im', special: true }, { id: 2, content: '<|im_start|>', special: true },
      { id: 3, content: '[X]', special: false, lstrip: true, rstrip: true },
    ]);
    expect(m.split('a<|im_start|>b', true)).toEqual([{ text: 'a' }, { token: expect.objectContaining({ id: 2 }) }, { text: 'b' }]);
    expect(m.split('a<|im_start|>b', false)).toEqual([{ text: 'a<|im_start|>b' }]);
    expect(m.split('a  [X]  b', false)).toEqual([{ text: 'a' }, { token: expect.objectContaining({ id: 3 }) }, { text: 'b' }]);
  });

  test('utf8Pieces keeps valid runs and isolates every invalid byte (overlong, surrogate, truncated)', () => {
    const p = utf8Pieces(Uint8Array.of(0x41, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xe4, 0xbd, 0xa0, 0xf0, 0x9f, 0x98));
    expect(p).toEqual([{ text: 'A' }, { byte: 0xc0 }, { byte: 0xaf }, { byte: 0xed }, { byte: 0xa0 }, { byte: 0x80 }, { text: '你' }, { byte: 0xf0 }, { byte: 0x9f }, { byte: 0x98 }]);
  });
});

describe('other loader paths', () => {
  test('GGUF gpt2 metadata (tokens, merges, token types, pre) encodes like tiktoken gpt2', () => {
    const j = JSON.parse(gpt2TokenizerJson()) as { model: { vocab: Record<string, number>; merges: string[] } };
    const tokens: string[] = [];
    for (const [t, id] of Object.entries(j.model.vocab)) tokens[id] = t;
    const tok = tk.fromGguf({
      'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'gpt-2', 'tokenizer.ggml.tokens': tokens,
      'tokenizer.ggml.merges': j.model.merges, 'tokenizer.ggml.token_type': tokens.map((_, i) => (i === 50256 ? 3 : 1)),
      'tokenizer.ggml.bos_token_id': 50256, 'tokenizer.ggml.eos_token_id': 50256,
    });
    const ref = getEncoding('gpt2');
    for (const s of ['Hello world!', '  spaces\n\nand 12345 numbers', '👨‍👩‍👧 emoji', "it's DON'T"]) expect(tok.encode(s)).toEqual(ref.encode(s));
    expect(tok.encode('a<|endoftext|>', { specials: true, bos: true })).toEqual([50256, 64, 50256]);
    expect(() => tk.fromGguf({ 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'mystery', 'tokenizer.ggml.tokens': [] })).toThrow(/"mystery" is not supported/);
  });

  test('GGUF llama metadata honours add_bos_token / add_space_prefix', () => {
    const meta = { ...llamaGguf(), 'tokenizer.ggml.add_bos_token': false, 'tokenizer.ggml.add_space_prefix': false };
    const tok = tk.fromGguf(meta);
    const ids = tok.encode('Hello');
    expect(ids[0]).not.toBe(1);
    expect(ids.map((id) => tok.idToToken(id)).join('')).toBe('Hello');
    expect(tok.decode(tok.encode(' Hello'))).toBe(' Hello');
  });

  test('tokenizer.json added tokens that are not special always match and decode as text', () => {
    const j = JSON.parse(gpt2TokenizerJson()) as { added_tokens: unknown[] };
    j.added_tokens.push({ id: 50257, content: '<custom>', special: false, lstrip: false, rstrip: false });
    const tok = tk.fromHuggingFace(j as never);
    expect(tok.vocabSize).toBe(50258);
    const ids = tok.encode('a<custom>b');
    expect(ids).toEqual([64, 50257, 65]);
    expect(tok.decode(ids)).toBe('a<custom>b');
    const d = tok.decoder();
    expect(ids.map((id) => d.push(id)).join('') + d.flush()).toBe('a<custom>b');
  });
});
