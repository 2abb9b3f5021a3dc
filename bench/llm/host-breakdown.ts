// The host part of one decode step, split by phase: the decode loop of llm.generate driven
// through the KvCache by hand, so that graph building (the model's forward, the cache's masks
// and stores) is timed apart from the scheduler (src/scheduler/host-profile.ts: walk and plan
// lookup, buffer claims, kernels run inline, sends to the pool) and from the rest of the step
// (waiting for pool kernels, promise hops, the read back of the logits).

import { performance } from 'node:perf_hooks';
import * as born from '../../src/index.js';
import type { KernelEvent } from '../../src/index.js';
import { KvCache } from '../../src/llm/kv-cache.js';
import { fromStorage } from '../../src/tensor/creation.js';
import type { Llm } from '../../src/llm/load.js';
import { hostProfile, resetHostProfile } from '../../src/scheduler/host-profile.js';

interface Row { build: number; walk: number; prepare: number; inline: number; dispatch: number; sync: number; wall: number; busy: number; kernels: number; nInline: number; nPool: number; nodes: number }

/** The union of the kernels' intervals (they may overlap when independent). */
export function busyMs(events: readonly { end: number; ms: number }[]): number {
  const iv = events.map((x) => [x.end - x.ms, x.end] as const).sort((a, b) => a[0] - b[0]);
  let busy = 0, cur = -Infinity, end = -Infinity;
  for (const [a, b] of iv) {
    if (a > end) { busy += end - cur > 0 ? end - cur : 0; cur = a; end = b; } else end = Math.max(end, b);
  }
  return busy + (end - cur > 0 ? end - cur : 0);
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Decodes `steps` tokens greedily after the prompts and prints the medians of the phases of a step (steps 4 on). */
export async function hostBreakdown(llm: Llm, prompts: readonly number[][], steps: number): Promise<void> {
  const b = prompts.length, t0 = Math.max(...prompts.map((p) => p.length)), vocab = llm.vocabSize;
  const device = llm.model.tokEmbeddings.weight.device;
  const cache = await KvCache.create(llm.model, prompts.map((p) => t0 - p.length), Math.ceil((t0 + steps) / 64) * 64);
  const events: { end: number; ms: number }[] = [];
  const on = (e: KernelEvent): void => { events.push({ end: performance.now(), ms: e.ms }); };
  born.engine.on('kernel', on);
  const rows: Row[] = [];
  let ids = new Int32Array(b * t0);
  prompts.forEach((p, i) => ids.set(p, i * t0 + t0 - p.length));
  let t = t0;
  for (let n = 0; n < steps; n++) {
    events.length = 0;
    resetHostProfile();
    hostProfile.enabled = true;
    const a = performance.now();
    const x = fromStorage(ids, [b, t], 'int32', device);
    const step = cache.begin(t);
    const logits = born.noGrad(() => llm.model.forward(x, { ...step.options, lastOnly: true }));
    const built = performance.now();
    const done = cache.commit(step, t, [logits]);
    const synced = performance.now();
    await done;
    const out = (await logits.data()) as Float32Array;
    const end = performance.now();
    hostProfile.enabled = false;
    logits.dispose();
    x.dispose();
    const next = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      let best = 0;
      for (let v = 1; v < vocab; v++) if (out[i * vocab + v]! > out[i * vocab + best]!) best = v;
      next[i] = best;
    }
    ids = next;
    t = 1;
    const h = hostProfile;
    rows.push({ build: built - a, walk: h.walkMs, prepare: h.prepareMs, inline: h.inlineMs, dispatch: h.dispatchMs, sync: synced - built, wall: end - a,
      busy: busyMs(events), kernels: events.length, nInline: h.inlineKernels, nPool: h.poolKernels, nodes: h.nodes });
  }
  born.engine.off('kernel', on);
  cache.dispose();
  const r = rows.slice(3);
  const m = (f: (x: Row) => number): string => median(r.map(f)).toFixed(2);
  console.log(`host breakdown (medians of ${r.length} decode steps, batch ${b}): ${m((x) => x.kernels)} kernels (${m((x) => x.nInline)} inline, ${m((x) => x.nPool)} pool), ${m((x) => x.nodes)} graph nodes walked`);
  console.log('| phase | ms per step |');
  console.log('| --- | ---: |');
  console.log(`| graph building (forward, cache masks and stores) | ${m((x) => x.build)} |`);
  console.log(`| walk + plan key + plan lookup | ${m((x) => x.walk)} |`);
  console.log(`| claim buffers, allocate kept outputs, read runtime scalars | ${m((x) => x.prepare)} |`);
  console.log(`| kernels run inline (their own time included) | ${m((x) => x.inline)} |`);
  console.log(`| sends to the pool (device.run's synchronous part) | ${m((x) => x.dispatch)} |`);
  console.log(`| the rest outside kernels (completions, promise hops, event-loop turns, read back) | ${m((x) => x.wall - x.build - x.walk - x.prepare - x.busy - x.dispatch)} |`);
  console.log(`| kernel time (union of intervals, inline ones included) | ${m((x) => x.busy)} |`);
  console.log(`| step (wall) | ${m((x) => x.wall)} |`);
}
