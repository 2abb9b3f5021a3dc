// Where one decode step of Born's generation goes: the kernels a step runs (engine 'kernel'
// events), their times by name, and the host time of the step outside any kernel.
//
//   flock /tmp/born-heavy.lock node dist-bench/bench/llm/profile-step.js FILE.gguf [--threads 2] [--batch 1] [--max-seq N]
//
// After a warm-up generation, one generation of 12 tokens is recorded; the steps between its 4th
// and 12th token are summarised (a step: from one token's yield to the next one's). Then the
// host part of a decode step is split (host-breakdown.ts): the same steps driven through the
// KvCache directly, timing graph building, the scheduler's phases and the rest.

import { performance } from 'node:perf_hooks';
import * as born from '../../src/index.js';
import type { KernelEvent } from '../../src/index.js';
import { promptIds } from './engines.js';
import { busyMs, hostBreakdown } from './host-breakdown.js';

const file = process.argv[2];
if (!file) throw new Error('usage: profile-step.js FILE.gguf [--threads N] [--batch B]');
const opt = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
born.setNumThreads(opt('threads', 2));
const batch = opt('batch', 1);
const maxSeq = opt('max-seq', 0);
const llm = await born.llm.load(file, maxSeq ? { maxSeqLen: maxSeq } : {});
const prompts = Array.from({ length: batch }, (_, i) => promptIds(16, llm.vocabSize, 11 + i));
const gen = async (): Promise<number[]> => {
  const at: number[] = [];
  for await (const s of llm.generate(prompts, { tokens: true, temperature: 0, maxTokens: 12, eosIds: [] })) if (s.index === 0) at.push(performance.now());
  return at;
};
await gen();

const events: { end: number; e: KernelEvent }[] = [];
const on = (e: KernelEvent): void => { events.push({ end: performance.now(), e }); };
born.engine.on('kernel', on);
const at = await gen();
born.engine.off('kernel', on);

const FROM = 3, steps = at.length - 1 - FROM;
const t0 = at[FROM]!, t1 = at.at(-1)!;
const inside = events.filter((x) => x.end > t0 && x.end <= t1);
// Busy time: the union of the kernels' intervals (kernels can overlap when independent).
const busy = busyMs(inside.map((x) => ({ end: x.end, ms: x.e.ms })));
const byName = new Map<string, { n: number; ms: number; bytes: number }>();
for (const { e } of inside) {
  const key = e.name.replace(/_\d+$/, '');
  const s = byName.get(key) ?? { n: 0, ms: 0, bytes: 0 };
  s.n++; s.ms += e.ms; s.bytes += e.bytes ?? 0;
  byName.set(key, s);
}
const wall = (t1 - t0) / steps;
console.log(`${file}: batch ${batch}, ${born.getNumThreads()} threads, ${steps} decode steps`);
console.log(`step ${wall.toFixed(2)} ms (${(1000 / wall).toFixed(1)} tok/s per row); kernels per step ${(inside.length / steps).toFixed(1)}; `
  + `kernel time (sum) ${(inside.reduce((a, x) => a + x.e.ms, 0) / steps).toFixed(2)} ms, busy (union) ${(busy / steps).toFixed(2)} ms, `
  + `host outside kernels ${((t1 - t0 - busy) / steps).toFixed(2)} ms per step`);
console.log('| kernel | per step | ms per step | ms each | GB/s |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [k, s] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`| ${k} | ${(s.n / steps).toFixed(1)} | ${(s.ms / steps).toFixed(3)} | ${(s.ms / s.n).toFixed(3)} | ${(s.bytes / (s.ms * 1e6)).toFixed(1)} |`);
}
console.log(`stats: ${JSON.stringify(born.engine.stats())}`);
await hostBreakdown(llm, prompts, 12);
process.exit(0);
