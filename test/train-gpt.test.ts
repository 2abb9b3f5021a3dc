// born train --model gpt on a 4 KB cut of two licence texts (test/fixtures/gpt/licence.txt: BSD,
// then the start of Apache-2.0): the batches and validation windows against index loops, the
// learning-rate schedule against its formula, the loss falling over a few steps, the written file
// read back by born.llm.load with the same logits as the model in memory, a resumed run ending
// with the same weights as an uninterrupted one, and the CLI's errors for bad flags (node
// dist/cli/main.js, so build first).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { saveBornLlm } from '../src/llm/born.js';
import { textData, validationBatches, WindowSampler } from '../src/train/gpt/data.js';
import { trainGpt, warmupCosine, type GptTrainOptions } from '../src/train/gpt/train.js';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const TEXT_FILE = fileURLToPath(new URL('./fixtures/gpt/licence.txt', import.meta.url));
const TEXT = new Uint8Array(readFileSync(TEXT_FILE));

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'born-gpt-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const tiny = (over: Partial<GptTrainOptions> = {}): GptTrainOptions => ({
  config: { dim: 32, hiddenDim: 64, nLayers: 1, nHeads: 4, nKvHeads: 2, maxSeqLen: 16, sharedClassifier: false },
  steps: 30, batchSize: 8, lr: 1e-2, warmup: 3, minLrFactor: 0.1, weightDecay: 0.1, betas: [0.9, 0.99], clip: 1,
  evalInterval: 15, seed: 1, log: () => {}, ...over,
});

describe('data', () => {
  const data = textData(TEXT);

  test('the vocabulary is the text\'s distinct bytes, ascending; the last 10% validates', () => {
    expect(data.vocab).toEqual([...new Set(TEXT)].sort((a, b) => a - b));
    expect(data.train.length + data.val.length).toBe(TEXT.length);
    expect(data.val.length).toBe(Math.floor(TEXT.length * 0.1));
    const back = Uint8Array.from([...data.train, ...data.val], (i) => data.vocab[i]!);
    expect(Buffer.from(back).equals(Buffer.from(TEXT))).toBe(true);
  });

  test('a batch is windows of the training ids, y one token after x; batches depend on the step alone', async () => {
    const s = new WindowSampler(data.train, 16, 8, 3);
    const starts = [...s.startsAt(5)];
    expect(new Set(starts).size).toBe(8);
    const { x, y } = s.batchAt(5);
    const xs = await x.data(), ys = await y.data();
    starts.forEach((st, i) => {
      for (let j = 0; j < 16; j++) {
        expect(xs[i * 16 + j]).toBe(data.train[st + j]);
        expect(ys[i * 16 + j]).toBe(data.train[st + j + 1]);
      }
    });
    expect([...new WindowSampler(data.train, 16, 8, 3).startsAt(5)]).toEqual(starts);
    expect([...new WindowSampler(data.train, 16, 8, 4).startsAt(5)]).not.toEqual(starts);
  });

  test('validation windows tile the validation ids in order', async () => {
    const ids = Int32Array.from({ length: 50 }, (_, i) => i);
    const batches = [...validationBatches(ids, 8, 4)];
    expect(batches.map((b) => b.x.shape[0])).toEqual([4, 2]); // ⌊49 / 8⌋ = 6 windows
    expect([...await batches[1]!.x.data()]).toEqual(Array.from({ length: 16 }, (_, i) => 32 + i));
    expect([...await batches[1]!.y.data()]).toEqual(Array.from({ length: 16 }, (_, i) => 33 + i));
  });

  test('the schedule warms up linearly, then follows a cosine down to minFactor at the last step', () => {
    const f = warmupCosine(110, 10, 0.1);
    expect(f(0)).toBeCloseTo(0.1, 12);
    expect(f(9)).toBeCloseTo(1, 12);
    expect(f(10)).toBeCloseTo(1, 12);
    expect(f(10 + 99 / 2)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(f(109)).toBeCloseTo(0.1, 12);
  });

  test('the byte tokenizer round-trips the text and rejects a byte it never saw', () => {
    const tok = born.llm.tokenizers.fromBytes(data.vocab);
    const ids = tok.encode(TEXT);
    expect([...ids]).toEqual([...data.train, ...data.val]);
    expect(tok.decode(ids)).toBe(new TextDecoder().decode(TEXT));
    expect(() => tok.encode('\u00e9')).toThrow(/byte 0xc3 .* not in this model's byte vocabulary/);
  });
});

describe('training', () => {
  test('the loss falls; born.llm.load reads the file back with the same logits; a resumed run ends where an uninterrupted one does', async () => {
    const data = textData(TEXT);
    const a = await trainGpt(data, tiny());
    expect(a.evals.map((e) => e.step)).toEqual([15, 30]);
    const uniform = Math.log(data.vocab.length);
    // From about ln(vocab) at the start to well below it (a unigram model of this text: ~3.0).
    expect(a.finalValLoss).toBeLessThan(uniform - 0.9);
    expect(a.evals[1]!.trainLoss).toBeLessThan(a.evals[0]!.trainLoss);

    const file = join(tmp, 'tiny.safetensors');
    await saveBornLlm(a.model, data.vocab, file);
    const llm = await born.llm.load(file);
    expect(llm.config).toEqual(a.model.config);
    expect(llm.tokenizer!.decode(llm.tokenizer!.encode('Copyright'))).toBe('Copyright');
    const ids = [...data.val.subarray(0, 16)];
    a.model.eval();
    const [want, got] = await Promise.all([new born.llm.Llm(a.model, a.model.config).logits(ids).data(), llm.logits(ids).data()]);
    expect(got.length).toBe(16 * data.vocab.length);
    expect([...got]).toEqual([...want]);

    // Stopped at step 15 and resumed from its checkpoint: the same weights as the run above.
    const ck = join(tmp, 'ck.safetensors');
    await trainGpt(data, tiny({ checkpoint: ck, stopAt: 15 }));
    const b = await trainGpt(data, tiny({ resume: ck }));
    expect(b.evals.map((e) => e.step)).toEqual([30]);
    const sa = a.model.stateDict(), sb = b.model.stateDict();
    for (const k of Object.keys(sa)) expect([...await sb[k]!.data()], k).toEqual([...await sa[k]!.data()]);
    const other = trainGpt(data, tiny({ resume: ck, steps: 40 })).then(() => 'resumed', (e: Error) => e.message);
    expect(await other).toMatch(/not a checkpoint of this model and text/);
  });
});

interface Run { code: number; stdout: string; stderr: string }
function train(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'train', '--model', 'gpt', ...args], { cwd: tmp, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('born train --model gpt', () => {
  const quick = ['--data', TEXT_FILE, '--dim', '32', '--layers', '1', '--context', '16', '--batch-size', '8', '--lr', '0.01', '--warmup', '3'];

  test('trains, reports the validation loss per interval, writes a file born.llm.load reads and prints a sample', async () => {
    const out = join(tmp, 'cli.safetensors');
    const init = join(tmp, 'cli-init.safetensors');
    const r = await train([...quick, '--steps', '20', '--eval-interval', '10', '--sample', '20', '--out', out, '--save-init', init]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const val = [...r.stdout.matchAll(/val loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(val).toHaveLength(2);
    expect(val[1]!).toBeLessThan(val[0]!);
    expect(r.stdout).toMatch(/final validation loss: \d+\.\d+ nats\/token/);
    expect(r.stdout).toMatch(/--- sample \(20 bytes, temperature 0\.8, seed 0\) ---\nThis License[^]{20}\n--- end of sample ---/);
    const llm = await born.llm.load(out);
    expect(llm.config.maxSeqLen).toBe(16);
    expect(llm.vocabSize).toBe(textData(TEXT).vocab.length);
    // --save-init: the same model before step 1 (the embedding has moved since).
    const first = await born.llm.load(init);
    expect(first.config).toEqual(llm.config);
    expect([...await first.model.tokEmbeddings.weight.data()]).not.toEqual([...await llm.model.tokEmbeddings.weight.data()]);
  });

  test.concurrent.each([
    [[], /--model gpt needs --data FILE/],
    [['--data', join('no', 'such.txt')], /--data no.such\.txt: no such file/],
    [['--data', TEXT_FILE, '--heads', '3'], /--dim 128 must be a multiple of 2 x --heads 3/],
    [['--data', TEXT_FILE, '--kv-heads', '3'], /--kv-heads 3 must divide --heads 4/],
    [['--data', TEXT_FILE, '--steps', '0'], /--steps must be an integer >= 1, got '0'/],
    [['--data', TEXT_FILE, '--lr', 'fast'], /--lr must be a number > 0, got 'fast'/],
    [['--data', TEXT_FILE, '--min-lr-factor', '2'], /--min-lr-factor must be a number in \[0, 1\], got '2'/],
    [['--data', TEXT_FILE, '--context', '1000'], /leave 409 for validation, fewer than one window of --context 1000/],
    [['--data', TEXT_FILE, '--prompt', '\u00e9t\u00e9'], /--prompt: Tokenizer: byte 0xc3/],
    [['--data', TEXT_FILE, '--epochs', '2'], /Unknown option '--epochs'/],
  ])('%j fails before any work, saying why', async (args, message) => {
    const r = await train(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/see born train --help/);
    expect(r.stdout).toBe('');
  });
});
