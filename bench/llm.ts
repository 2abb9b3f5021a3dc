// LLM inference: Born against node-llama-cpp (llama.cpp) on the same GGUF files, in the same run.
// For each model and engine a fresh child process (so peak RSS is that engine's) loads the model
// and measures load time, time to first token, prefill tokens/s, and greedy generation tokens/s at
// batch 1 and batch 8 (medians of --runs runs after a warm-up; see llm/engines.ts). Both engines
// run on --threads threads. Prints a table with Born/llama.cpp ratios, writes the JSON and a
// section of bench/RESULTS.md. Heavy: run it alone on a shared machine, e.g.
//
//   /usr/bin/python3 bench/llm/gen_bench_models.py          # the ~100M files, /tmp/born-llm-bench
//   npm run build && npx tsc -p tsconfig.bench.json
//   flock /tmp/born-heavy.lock node dist-bench/bench/llm.js [--runs 3] [--threads 2] [--only NAME]
//     [--dir /tmp/born-llm-bench] [--json bench/RESULTS-llm.json] [--md bench/RESULTS.md | --no-write]
//
// node-llama-cpp is not a dependency (hundreds of MB); NODE_LLAMA_CPP points at its package
// (default /tmp/nlc/node_modules/node-llama-cpp). stories260K (llama2.c format) is Born only.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bornEngine, llamaCppEngine, type EngineResult, type Shape } from './llm/engines.js';

const PREFIX = 'BENCH_LLM ';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Model { name: string; file: string; context: number; vocab: number; llamaCpp: boolean }

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

function models(dir: string): Model[] {
  const fx = path.join(root, 'test', 'llm', 'fixtures', 'gguf');
  const golden = JSON.parse(readFileSync(path.join(fx, 'golden.json'), 'utf8')) as { models: Record<string, { config: { seq_len: number; vocab_size: number } }> };
  const out: Model[] = Object.entries(golden.models).map(([file, c]) => ({
    name: file.replace(/\.gguf$/, ''), file: path.join(fx, file), context: c.config.seq_len, vocab: c.config.vocab_size, llamaCpp: true,
  }));
  const stories = path.join(process.env.BORN_MODELS ?? path.join(root, '..', '..', 'shared', 'models'), 'stories260K.bin');
  const shared = existsSync(stories) ? stories : '/work/shared/models/stories260K.bin';
  if (existsSync(shared)) out.push({ name: 'stories260K', file: shared, context: 512, vocab: 512, llamaCpp: false });
  for (const ty of ['f32', 'q8_0']) {
    const file = path.join(dir, `llama-100m-${ty}.gguf`);
    if (existsSync(file)) out.push({ name: `llama-100m-${ty}`, file, context: 1024, vocab: 353, llamaCpp: true });
    else console.error(`${file} is missing: run /usr/bin/python3 bench/llm/gen_bench_models.py ${dir}`);
  }
  return out;
}

/** The prompt and generation lengths: 128 + 64 where the context allows, else scaled to it. */
function shape(m: Model, runs: number, threads: number): Shape {
  const context = Math.min(m.context, 1024);
  return {
    prefill: Math.min(128, context / 2), genPrompt: Math.min(16, context / 4), gen: Math.min(64, context / 2),
    batch: 8, threads, runs, context, vocab: m.vocab,
  };
}

function child(engine: string, m: Model, s: Shape): EngineResult | string {
  const r = spawnSync(process.execPath, [process.argv[1]!, '--child', engine, m.file, JSON.stringify(s)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_800_000, maxBuffer: 64 << 20,
  });
  const line = `${r.stdout ?? ''}`.split('\n').find((l) => l.startsWith(PREFIX));
  if (line) return JSON.parse(line.slice(PREFIX.length)) as EngineResult;
  const last = `${r.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  return `no result (${r.signal ?? `exit ${r.status}`}): ${last.slice(0, 300)}`;
}

const f = (x: number | undefined, d = 1): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined, d = 2): string => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(d)}x`);

interface Row { model: Model; shape: Shape; born: EngineResult | string; llamaCpp: (EngineResult | string)[] }

function table(rows: Row[]): string[] {
  const out = [
    '| model | engine | load ms | TTFT ms (cold) | prefill tok/s | gen tok/s b1 | gen tok/s b8 | b8/b1 | peak RSS MB |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const len = `${r.shape.prefill}-token prefill, ${r.shape.gen} new tokens`;
    for (const e of [r.born, ...r.llamaCpp]) {
      if (typeof e === 'string') { out.push(`| ${r.model.name} | ${e} | | | | | | | |`); continue; }
      out.push(`| ${r.model.name} (${len}) | ${e.engine} | ${f(e.loadMs, 0)} | ${f(e.ttftMs)} (${f(e.coldTtftMs, 0)}) | ${f(e.prefillTps)} | ${f(e.genTps1)} | ${f(e.genTps8)} | ${ratio(e.genTps8, e.genTps1, 1)} | ${f(e.peakRssMb, 0)} |`);
    }
    const b = typeof r.born === 'string' ? undefined : r.born;
    for (const l of r.llamaCpp) {
      if (!b || typeof l === 'string') continue;
      out.push(`| ${r.model.name} | **Born/${l.engine}** | ${ratio(b.loadMs, l.loadMs)} | ${ratio(b.ttftMs, l.ttftMs)} | ${ratio(b.prefillTps, l.prefillTps)} | ${ratio(b.genTps1, l.genTps1)} | ${ratio(b.genTps8, l.genTps8)} | | ${ratio(b.peakRssMb, l.peakRssMb)} |`);
    }
  }
  return out;
}

function section(rows: Row[], threads: number, runs: number): string {
  const e = rows.flatMap((r) => [r.born, ...r.llamaCpp]).filter((x): x is EngineResult => typeof x === 'object');
  const paths = [...new Set(e.map((x) => `${x.engine}: ${x.path}`))];
  const big = rows.find((r) => r.model.name === 'llama-100m-q8_0');
  const b = big && typeof big.born === 'object' ? big.born : undefined;
  const l = big?.llamaCpp.find((x): x is EngineResult => typeof x === 'object' && x.threads === threads);
  const targets = b ? [
    `- generation at batch 1 on llama-100m-q8_0: Born ${f(b.genTps1)} tok/s, llama.cpp ${f(l?.genTps1)}: ${ratio(b.genTps1, l?.genTps1)} (target ≥ 0.5x): ${l && b.genTps1 >= 0.5 * l.genTps1 ? 'met' : 'not met'}`,
    `- Born's batch 8 over its batch 1 on llama-100m-q8_0: ${ratio(b.genTps8, b.genTps1, 1)} (target ≥ 4x): ${b.genTps8 >= 4 * b.genTps1 ? 'met' : 'not met'}`,
  ] : ['- llama-100m-q8_0 was not measured'];
  return [
    '## LLM inference (issue 12): bench/llm.ts, Born against node-llama-cpp',
    '',
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} vCPU (shared with other jobs, so figures are noisy), Node ${process.version}; `
    + `both engines on ${threads} threads (rows marked otherwise aside), each in its own fresh process per model; medians of ${runs} runs after a warm-up run of each case. `
    + 'Greedy decoding, EOS ignored, the same token ids for both engines (random ids from the vocabulary). '
    + 'TTFT: a prefill prompt to its first token (cold: the first in the process, kernel compiles included); prefill tok/s = prompt tokens / TTFT. '
    + 'Generation tok/s: tokens after each row\'s first over the time from the first token to the last; batch 8 = 8 prompts of 16 tokens decoded together (llama.cpp: one context of 8 sequences), counted over all rows. '
    + 'Peak RSS: process.resourceUsage().maxRSS of the engine\'s process. llama.cpp\'s KV cache is f32 like Born\'s, flash attention off. '
    + 'llama-100m-*: random LLaMA from bench/llm/gen_bench_models.py (dim 768, 16 layers, hidden 2048, 12 heads, 4 kv heads, 101M parameters, vocabulary of 353); stories260K is llama2.c format, which llama.cpp does not read.',
    '',
    'Weights paths:',
    '',
    ...paths.map((p) => `- ${p}`),
    '',
    ...table(rows),
    '',
    'Targets:',
    '',
    ...targets,
    '',
  ].join('\n');
}

function writeSection(file: string, text: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const head = '\n## LLM inference (issue 12)';
  const at = old.indexOf(head);
  if (at < 0) { writeFileSync(file, `${old.replace(/\n*$/, '\n')}\n${text}`); return; }
  const next = old.indexOf('\n## ', at + head.length);
  writeFileSync(file, `${old.slice(0, at)}\n${text}${next < 0 ? '' : old.slice(next)}`);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [engine, file, s] = process.argv.slice(3) as [string, string, string];
    const run = engine === 'born' ? bornEngine : llamaCppEngine;
    const r = await run(file, JSON.parse(s) as Shape);
    process.stdout.write(`${PREFIX}${JSON.stringify(r)}\n`);
    process.exit(0); // the worker pools would keep the process alive
  }
  const runs = Number(arg('runs', '3')), threads = Number(arg('threads', '2'));
  const only = new RegExp(arg('only', '.'));
  // llama.cpp also at these thread counts (its spinning thread barrier suffers on an oversubscribed machine).
  const extra = arg('llama-threads', '').split(',').filter(Boolean).map(Number).filter((n) => n !== threads);
  const rows: Row[] = [];
  for (const m of models(arg('dir', '/tmp/born-llm-bench'))) {
    if (!only.test(m.name)) continue;
    const s = shape(m, runs, threads);
    const peers = m.llamaCpp ? [threads, ...extra].map((t) => child('llama.cpp', m, { ...s, threads: t })) : [];
    const row: Row = { model: m, shape: s, born: child('born', m, s), llamaCpp: peers };
    rows.push(row);
    console.log(table([row]).slice(2).join('\n'));
  }
  console.log(`\n${table(rows).join('\n')}`);
  const text = section(rows, threads, runs);
  if (!process.argv.includes('--no-write')) {
    writeFileSync(arg('json', path.join(root, 'bench', 'RESULTS-llm.json')), `${JSON.stringify({ threads, runs, rows }, null, 1)}\n`);
    writeSection(arg('md', path.join(root, 'bench', 'RESULTS.md')), text);
  }
  console.log(`\n${text}`);
}

await main();
