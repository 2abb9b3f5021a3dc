// `born generate`, run as a user runs it (node dist/cli/main.js: build first), on the tiny
// llama2.c checkpoint: greedy ids against the PyTorch continuation, text through a tokenizer.bin
// written here against the library's own generate, the speeds on stderr, and usage errors.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import * as born from '../../src/index.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const MODEL = fileURLToPath(new URL('./fixtures/tiny_unshared.bin', import.meta.url));
const GOLDEN = JSON.parse(readFileSync(new URL('./fixtures/tiny_unshared.json', import.meta.url), 'utf8')) as { greedy: { prompt: number[]; tokens: number[] } };

interface Run { code: number; stdout: string; stderr: string }
const run = (args: string[]): Promise<Run> => new Promise((resolve) => {
  execFile(process.execPath, [MAIN, 'generate', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
  });
});

/** llama2.c's tokenizer.bin layout: int32 max length; per token float32 score, int32 length, bytes. */
function tokenizerBin(tokens: string[]): Buffer {
  const parts = tokens.map((t) => {
    const b = Buffer.from(t, 'utf8'), head = Buffer.alloc(8);
    head.writeFloatLE(0, 0);
    head.writeInt32LE(b.length, 4);
    return Buffer.concat([head, b]);
  });
  const max = Buffer.alloc(4);
  max.writeInt32LE(Math.max(...tokens.map((t) => Buffer.byteLength(t))), 0);
  return Buffer.concat([max, ...parts]);
}
const TOKENS = ['<unk>', '\n<s>\n', '\n</s>\n', ' ', ...Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i)), ' the', '.'];

let tmp: string, tokFile: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'born-generate-'));
  tokFile = join(tmp, 'tokenizer.bin');
  writeFileSync(tokFile, tokenizerBin(TOKENS));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('--prompt-ids at temperature 0 prints the greedy ids, then the speeds on stderr', async () => {
  const g = GOLDEN.greedy;
  const r = await run(['--model', MODEL, '--prompt-ids', g.prompt.join(','), '--temperature', '0', '--max-tokens', '12']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim().split(' ').map(Number)).toEqual(g.tokens);
  expect(r.stderr).toMatch(/^prompt: 2 tokens in [\d.]+ ms \([\d.]+ tokens\/s\)$/m);
  expect(r.stderr).toMatch(/^generated: 12 tokens; 11 after the first in [\d.]+ ms \([\d.]+ tokens\/s\)$/m);
});

test('--tokenizer and --prompt stream text equal to llm.generate with that tokenizer', async () => {
  const args = ['--model', MODEL, '--tokenizer', tokFile, '--prompt', 'the cat', '--max-tokens', '10', '--seed', '3', '--temperature', '1', '--top-k', '5'];
  const r = await run(args);
  expect(r.code).toBe(0);
  const base = await born.llm.load(MODEL);
  const tokenizer = born.llm.tokenizers.fromLlama2c(readFileSync(tokFile), { vocabSize: 32 });
  const llm = new born.llm.Llm(base.model, base.config, { tokenizer, eosIds: [2] });
  let text = '';
  for await (const piece of llm.generate('the cat', { maxTokens: 10, seed: 3, temperature: 1, topK: 5 })) text += piece;
  expect(r.stdout).toBe(`the cat${text}\n`);
});

test('a GGUF file brings its tokenizer: --prompt alone streams the greedy text', async () => {
  const gguf = fileURLToPath(new URL('./fixtures/gguf/tiny-llama-f32.gguf', import.meta.url));
  const r = await run(['--model', gguf, '--prompt', 'Once upon a time', '--temperature', '0', '--max-tokens', '6']);
  expect(r.code).toBe(0);
  const llm = await born.llm.load(gguf);
  let text = '';
  for await (const piece of llm.generate('Once upon a time', { temperature: 0, maxTokens: 6 })) text += piece;
  expect(r.stdout).toBe(`Once upon a time${text}\n`);
});

test('mistakes exit with status 2 before loading anything, naming the flag', async () => {
  const cases: [string[], RegExp][] = [
    [[], /--model FILE is required/],
    [['--model', MODEL, '--prompt', 'hi'], /holds no tokenizer; give one with --tokenizer FILE/],
    [['--model', MODEL, '--prompt-ids', '1,x'], /--prompt-ids must be token ids separated by commas/],
    [['--model', MODEL, '--top-p', '2'], /--top-p must be a number in/],
    [['--model', join(tmp, 'missing.bin')], /--model .*missing\.bin: no such file/],
  ];
  const runs = await Promise.all(cases.map(([args]) => run(args)));
  runs.forEach((r, i) => {
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(cases[i]![1]);
  });
});
