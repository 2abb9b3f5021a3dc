// Scaling past one process is the balancer's job (issue 13): three `born serve` processes behind
// Debian's nginx on loopback (test/deploy/nginx-harness.ts: proxy_next_upstream with
// non_idempotent, so nginx resends a predict POST to the next backend when one fails). Under a
// load of concurrent predict requests one backend is killed with SIGKILL; every request must
// still get a 200 with the right logits (checked against a plain-JS forward pass of the same
// weights), and nginx's access log must show requests it retried on another backend.
// Skipped, saying so, where /usr/sbin/nginx is absent (.ci/run installs it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { serialize, type RawTensor } from '../../src/io/safetensors.js';
import { hasBornServe, startBornServe, type ServerProcess } from '../../bench/serve/process.js';
import { hasNginx, NGINX, startNginx, type Nginx } from './nginx-harness.js';
import { QUEUE_DEPTH_METRIC } from './served-metrics.js';

const SIZES = [784, 512, 256, 10] as const;
/** Requests in all, in flight at once, and how many are answered before the kill. */
const TOTAL = 480, CONCURRENCY = 24, KILL_AFTER = 120;
const INPUTS = 8;

/** mulberry32: weights and inputs independent of Born's generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The MLP of src/cli/models.ts (Flatten, Linear 784-512, ReLU, Linear 512-256, ReLU, Linear 256-10) as its state dict keys. */
function mlpWeights(): { raw: Record<string, RawTensor>; layers: { w: Float32Array; b: Float32Array; n: number; k: number }[] } {
  const r = rng(13);
  const raw: Record<string, RawTensor> = {};
  const layers = [];
  for (let l = 0; l < 3; l++) {
    const k = SIZES[l]!, n = SIZES[l + 1]!, bound = 1 / Math.sqrt(k);
    const w = Float32Array.from({ length: n * k }, () => (2 * r() - 1) * bound);
    const b = Float32Array.from({ length: n }, () => (2 * r() - 1) * bound);
    raw[`${2 * l + 1}.weight`] = { dtype: 'float32', shape: [n, k], data: w };
    raw[`${2 * l + 1}.bias`] = { dtype: 'float32', shape: [n], data: b };
    layers.push({ w, b, n, k });
  }
  return { raw, layers };
}

/** The reference: the same forward pass in float64 loops. */
function forward(layers: ReturnType<typeof mlpWeights>['layers'], x: Float32Array): number[] {
  let h: number[] = Array.from(x);
  layers.forEach(({ w, b, n, k }, l) => {
    const y = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      let s = b[i]!;
      for (let j = 0; j < k; j++) s += w[i * k + j]! * h[j]!;
      y[i] = l < layers.length - 1 ? Math.max(0, s) : s;
    }
    h = y;
  });
  return h;
}

/** [1, 1, 28, 28] as nested arrays (the batch dim included: born serve merges requests along it). */
const nested = (x: Float32Array): number[][][][] => [[Array.from({ length: 28 }, (_, i) => Array.from(x.subarray(i * 28, i * 28 + 28)))]];

const skip = !hasNginx() ? `${NGINX} is absent (apt-get install nginx-light; .ci/run installs it)`
  : !hasBornServe() ? 'dist/cli/serve.js is absent (npm run build)' : null;

describe.skipIf(skip !== null)(`three born serve processes behind nginx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir = '';
  let backends: ServerProcess[] = [];
  let nginx: Nginx | undefined;
  const { raw, layers } = mlpWeights();
  const r = rng(7);
  const inputs = Array.from({ length: INPUTS }, () => Float32Array.from({ length: 784 }, () => r()));
  const expected = inputs.map((x) => forward(layers, x));
  const bodies = inputs.map((x) => JSON.stringify({ inputs: nested(x) }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'born-nginx-model-'));
    const file = join(dir, 'mlp.safetensors');
    writeFileSync(file, serialize(raw, { model: 'mlp' }));
    const started = await Promise.allSettled([0, 1, 2].map(() => startBornServe({ mlp: file }, ['--max-batch', '16', '--max-wait-ms', '2'])));
    backends = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    nginx = await startNginx(backends.map((b) => b.port));
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(backends.map((b) => b.stop('SIGKILL')));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`each backend exports ${QUEUE_DEPTH_METRIC} (the HPA's metric)`, async () => {
    for (const b of backends) {
      const text = await (await fetch(`${b.url}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^# TYPE ${QUEUE_DEPTH_METRIC} gauge$`, 'm'));
    }
  });

  test('SIGKILL of one backend under load loses no request', async () => {
    const url = `${nginx!.url}/v1/models/mlp:predict`;
    const results: { i: number; status: number; body: string }[] = [];
    const victim = backends[1]!;
    let next = 0, killedAt = -1;
    const worker = async (): Promise<void> => {
      while (next < TOTAL) {
        const i = next++;
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[i % INPUTS]! });
        results.push({ i, status: res.status, body: await res.text() });
        if (results.length === KILL_AFTER && killedAt < 0) {
          killedAt = results.length;
          victim.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(killedAt).toBe(KILL_AFTER);
    expect(victim.child.signalCode).toBe('SIGKILL');

    expect(results).toHaveLength(TOTAL);
    const bad = results.filter((x) => x.status !== 200);
    expect(bad.slice(0, 3), `${bad.length} of ${TOTAL} requests failed\n${nginx!.errorLog().slice(-2000)}`).toEqual([]);
    for (const { i, body } of results) {
      const got = (JSON.parse(body) as { outputs: Record<string, number[][]> }).outputs;
      const logits = Object.values(got)[0]![0]!;
      const want = expected[i % INPUTS]!;
      expect(logits).toHaveLength(10);
      logits.forEach((v, j) => expect(Math.abs(v - want[j]!), `request ${i} logit ${j}: ${v} vs ${want[j]}`).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(want[j]!)));
    }

    // nginx saw every request, and resent some of them from the killed backend to a live one.
    const log = nginx!.accessLog();
    expect(log).toHaveLength(TOTAL);
    expect(log.every((l) => l.status === 200)).toBe(true);
    const victimAddr = `127.0.0.1:${victim.port}`;
    const retried = log.filter((l) => l.upstreams.length > 1);
    expect(retried.length, 'requests nginx retried on another backend').toBeGreaterThan(0);
    for (const l of retried) {
      expect(l.upstreams).toContain(victimAddr);
      expect(l.upstreamStatuses.at(-1)).toBe('200');
    }
  }, 30_000);
});
