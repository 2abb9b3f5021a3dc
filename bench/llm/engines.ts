// One engine's measurements of one model, in a child process of bench/llm.ts (so that its peak
// RSS is its own): load, a warm-up (kernel compiles, llama.cpp's graph reservation), then RUNS
// times each of prefill (one prompt, time to its first token), generation at batch 1 and at batch
// 8 (greedy, EOS ignored), and the medians. Both engines are fed the same token ids.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as born from '../../src/index.js';
import { median } from '../common.js';

export interface Shape {
  /** Tokens of the prefill prompt. */
  prefill: number;
  /** Tokens of each generation prompt. */
  genPrompt: number;
  /** New tokens per generation run. */
  gen: number;
  batch: number;
  threads: number;
  runs: number;
  /** The context the engine is given (the model's, capped). */
  context: number;
  vocab: number;
}

/** Times of one generation call: when it began, when each row yielded its first and last token. */
interface Timed { start: number; first: number[]; last: number[]; counts: number[] }

export interface EngineResult {
  engine: string;
  threads: number;
  /** Which path the weights took (Born: the parameters' dtypes; llama.cpp: its build). */
  path: string;
  loadMs: number;
  /** The first prefill of the process (kernel compiles included). */
  coldTtftMs: number;
  ttftMs: number;
  prefillTps: number;
  genTps1: number;
  genTps8: number;
  rssLoadMb: number;
  peakRssMb: number;
  /** The generated tokens of the last batch-1 run (a check that both engines decode the same way). */
  tokens1: number[];
}

/** Deterministic token ids in [3, vocab) (ids 0-2 are unk/bos/eos in these vocabularies). */
export function promptIds(n: number, vocab: number, seed: number): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = [1];
  while (out.length < n) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out.push(3 + (s % (vocab - 3)));
  }
  return out;
}

const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
const peakMb = (): number => process.resourceUsage().maxRSS / 1024;

function summarize(engine: string, path: string, loadMs: number, rssLoadMb: number, s: Shape, cold: Timed, pre: Timed[], g1: Timed[], g8: Timed[], tokens1: number[]): EngineResult {
  const ttft = (t: Timed): number => t.first[0]! - t.start;
  // Decode rate: tokens after each row's first, over the time from the last row's first token
  // to the last row's last (the prefill and the first sampling are outside it).
  const rate = (t: Timed): number => {
    const toks = t.counts.reduce((a, c) => a + c - 1, 0);
    return (toks * 1000) / (Math.max(...t.last) - Math.max(...t.first));
  };
  const ttftMs = median(pre.map(ttft));
  return {
    engine: `${engine} ${s.threads}T`, threads: s.threads, path, loadMs, coldTtftMs: ttft(cold), ttftMs, prefillTps: (s.prefill * 1000) / ttftMs,
    genTps1: median(g1.map(rate)), genTps8: median(g8.map(rate)), rssLoadMb, peakRssMb: peakMb(), tokens1,
  };
}

/** Runs `gen` over the prefill, batch-1 and batch-8 cases: a warm-up of each, then s.runs of each. */
async function measure(s: Shape, gen: (prompts: number[][], maxTokens: number, keep?: number[]) => Promise<Timed>): Promise<{ cold: Timed; pre: Timed[]; g1: Timed[]; g8: Timed[]; tokens1: number[] }> {
  const prefill = [promptIds(s.prefill, s.vocab, 7)];
  const prompts = Array.from({ length: s.batch }, (_, i) => promptIds(s.genPrompt, s.vocab, 11 + i));
  const cold = await gen(prefill, 1);
  await gen(prompts.slice(0, 1), s.gen);
  await gen(prompts, s.gen);
  const pre: Timed[] = [], g1: Timed[] = [], g8: Timed[] = [];
  const tokens1: number[] = [];
  for (let r = 0; r < s.runs; r++) {
    pre.push(await gen(prefill, 1));
    tokens1.length = 0;
    g1.push(await gen(prompts.slice(0, 1), s.gen, tokens1));
    g8.push(await gen(prompts, s.gen));
  }
  return { cold, pre, g1, g8, tokens1 };
}

export async function bornEngine(model: string, s: Shape): Promise<EngineResult> {
  born.setNumThreads(s.threads);
  const t0 = performance.now();
  const llm = await born.llm.load(model, { maxSeqLen: s.context });
  const params = llm.model.parameters();
  await Promise.all(params.map((p) => p.data())); // the weights in memory, not still being read
  const loadMs = performance.now() - t0;
  const rssLoadMb = rssMb();
  const dtypes = [...new Set(params.map((p) => p.dtype))].join('+');
  // Projections the GGUF loader kept packed (src/quant): their blocks are buffers, not parameters.
  const packed = llm.model.modules().filter((m) => m.constructor.name === 'QuantizedLinear').length;
  const gen = async (prompts: number[][], maxTokens: number, keep?: number[]): Promise<Timed> => {
    const b = prompts.length;
    const t: Timed = { start: performance.now(), first: new Array<number>(b).fill(0), last: new Array<number>(b).fill(0), counts: new Array<number>(b).fill(0) };
    for await (const { index, token } of llm.generate(prompts, { tokens: true, temperature: 0, maxTokens, eosIds: [] })) {
      const now = performance.now();
      if (t.counts[index]++ === 0) t.first[index] = now;
      t.last[index] = now;
      if (index === 0) keep?.push(token);
    }
    return t;
  };
  const m = await measure(s, gen);
  return summarize('born', `Born CPU (wasm/JS workers), parameters ${dtypes}, ${packed ? `${packed} projections packed (dequantised in the matmul)` : 'no packed projections (quantised weights dequantised to f32 on load)'}`, loadMs, rssLoadMb, s, m.cold, m.pre, m.g1, m.g8, m.tokens1);
}

/* eslint-disable @typescript-eslint/no-explicit-any -- node-llama-cpp is loaded from outside node_modules, untyped */
export async function llamaCppEngine(model: string, s: Shape): Promise<EngineResult> {
  const pkg = process.env.NODE_LLAMA_CPP ?? '/tmp/nlc/node_modules/node-llama-cpp';
  const nlc: any = await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href);
  const t0 = performance.now();
  const llama: any = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error, maxThreads: s.threads });
  const m: any = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
  // An f32 KV cache, as Born keeps its cache; one sequence per batch row.
  const ctx: any = await m.createContext({
    contextSize: s.context * s.batch, sequences: s.batch, batchSize: Math.max(s.prefill, s.genPrompt * s.batch),
    threads: { ideal: s.threads, min: s.threads }, experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32', flashAttention: false,
  });
  const seqs: any[] = Array.from({ length: s.batch }, () => ctx.getSequence());
  const loadMs = performance.now() - t0;
  const rssLoadMb = rssMb();
  const gen = async (prompts: number[][], maxTokens: number, keep?: number[]): Promise<Timed> => {
    const b = prompts.length;
    await Promise.all(seqs.slice(0, b).map((q) => q.clearHistory()));
    const t: Timed = { start: performance.now(), first: new Array<number>(b).fill(0), last: new Array<number>(b).fill(0), counts: new Array<number>(b).fill(0) };
    // Concurrent evaluations of one context's sequences are decoded together, one batch per step.
    await Promise.all(prompts.map(async (p, i) => {
      for await (const token of seqs[i].evaluate(p, { temperature: 0, yieldEogToken: true })) {
        const now = performance.now();
        if (t.counts[i]++ === 0) t.first[i] = now;
        t.last[i] = now;
        if (i === 0) keep?.push(Number(token));
        if (t.counts[i]! >= maxTokens) break;
      }
    }));
    return t;
  };
  const r = await measure(s, gen);
  const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const build = `node-llama-cpp ${version}, llama.cpp ${llama.llamaCppRelease?.release ?? '?'}, ${llama.buildType} build, gpu ${String(llama.gpu)}`;
  const out = summarize('llama.cpp', build, loadMs, rssLoadMb, s, r.cold, r.pre, r.g1, r.g8, r.tokens1);
  await ctx.dispose();
  await m.dispose();
  await llama.dispose();
  return out;
}
