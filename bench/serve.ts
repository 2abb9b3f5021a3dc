// Serving benchmark (issue 13): autocannon load of batch-1 JSON predict requests on the MLP and
// the CNN, `born serve` (dynamic batching on) against onnxruntime-node inside a fastify server of
// the same shape serving one request per session.run (bench/serve/ort-server.ts), the same model
// (bench/serve/models.ts: seeded random weights, exported to ONNX by born.onnx.save), in the same
// run, one server at a time, alternating; then LLM streaming tokens/s with 1, 8 and 32 concurrent
// streams on born serve's /v1/completions (stream: true).
//   npm run build && npx tsc -p tsconfig.bench.json && \
//   flock /tmp/born-heavy.lock node dist-bench/bench/serve.js [--runs 3] [--duration 10] [--warmup 3]
//     [--connections 64] [--models mlp,cnn] [--max-batch 64] [--max-wait-ms 1]
//     [--llm FILE.gguf] [--llm-streams 1,8,32] [--llm-tokens 32] [--llm-runs 3] [--no-llm] [--json FILE]
// Each figure is the median of --runs runs (a fresh server process per run); a run is --warmup
// seconds of the same load, unmeasured, then --duration seconds measured. autocannon runs in this
// process, so the load generator shares the machine's cores with the server under test, alike
// for both servers. Before the first run the two servers' logits for the request are compared.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import type { ModelName } from '../src/cli/models.js';
import { streamRun, type StreamRun } from './serve/llm-streams.js';
import { writeModels } from './serve/models.js';
import { ROOT, startBornServe, startServer, type ServerProcess } from './serve/process.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    models: { type: 'string', default: 'mlp,cnn' },
    'max-batch': { type: 'string', default: '64' },
    'max-wait-ms': { type: 'string', default: '1' },
    llm: { type: 'string', default: path.join(ROOT, 'test/llm/fixtures/gguf/tiny-llama-q8_0.gguf') },
    'llm-streams': { type: 'string', default: '1,8,32' },
    'llm-tokens': { type: 'string', default: '32' },
    'llm-runs': { type: 'string', default: '3' },
    'no-llm': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const RUNS = Number(values.runs), DURATION = Number(values.duration), WARMUP = Number(values.warmup);
const CONNECTIONS = Number(values.connections);
const MODEL_NAMES = values.models!.split(',') as ModelName[];
const BORN_FLAGS = ['--max-batch', values['max-batch']!, '--max-wait-ms', values['max-wait-ms']!];
const ORT_SERVER = path.join(path.dirname(new URL(import.meta.url).pathname), 'serve', 'ort-server.js');

interface Load { rps: number; p50: number; p99: number; non2xx: number; errors: number }
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** A random Fashion-MNIST-shaped image as born serve's JSON predict body, batch dim included. */
function body(): string {
  let seed = 1;
  const r = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return JSON.stringify({ inputs: [[Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => Math.round(r() * 1000) / 1000))]] });
}
const BODY = body();

async function cannon(url: string, seconds: number): Promise<Load> {
  const r = await autocannon({
    url, method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY,
    connections: CONNECTIONS, duration: seconds,
  });
  return { rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
}

async function logits(url: string): Promise<number[]> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { outputs: Record<string, number[][]> }).outputs['logits']![0]!;
}

type Server = 'born' | 'ort';
const start = (server: Server, files: { safetensors: string; onnx: string }, name: string): Promise<ServerProcess> => server === 'born'
  ? startBornServe({ [name]: files.safetensors }, BORN_FLAGS, { timeoutMs: 120_000 })
  : startServer([ORT_SERVER, '--model', `${name}=${files.onnx}`, '--port', '0', '--host', '127.0.0.1'], { timeoutMs: 120_000 });

const dir = mkdtempSync(path.join(tmpdir(), 'born-bench-serve-'));
const report: Record<string, unknown> = { connections: CONNECTIONS, runs: RUNS, duration: DURATION, warmup: WARMUP, bornFlags: BORN_FLAGS, models: {} };
try {
  const files = await writeModels(dir, MODEL_NAMES);
  for (const name of MODEL_NAMES) {
    const runs: Record<Server, Load[]> = { born: [], ort: [] };
    const answers: Partial<Record<Server, number[]>> = {};
    for (let run = 0; run < RUNS; run++) {
      // Alternate which server goes first, so a slow drift of the machine falls on both.
      for (const server of (run % 2 ? ['ort', 'born'] : ['born', 'ort']) as Server[]) {
        const p = await start(server, files[name]!, name);
        try {
          const url = `${p.url}/v1/models/${name}:predict`;
          answers[server] ??= await logits(url);
          await cannon(url, WARMUP);
          const load = await cannon(url, DURATION);
          runs[server].push(load);
          console.log(`${name} ${server} run ${run + 1}: ${load.rps.toFixed(0)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms${load.non2xx || load.errors ? `, ${load.non2xx} non-2xx, ${load.errors} errors` : ''}`);
        } finally {
          await p.stop();
        }
      }
    }
    const { born: b, ort: o } = answers;
    const check = b && o ? `max |born - ort| over the 10 logits ${Math.max(...o.map((v, i) => Math.abs(v - b[i]!))).toExponential(2)}` : 'no logits compared';
    const med = (s: Server) => ({ rps: median(runs[s].map((l) => l.rps)), p50: median(runs[s].map((l) => l.p50)), p99: median(runs[s].map((l) => l.p99)), runs: runs[s] });
    const born = med('born'), ort = med('ort');
    const ratio = { throughput: born.rps / ort.rps, p99: born.p99 / ort.p99 };
    const met = ratio.throughput > 1 && ratio.p99 <= 2;
    (report['models'] as Record<string, unknown>)[name] = { born, ort, ratio, target: met, check };
    console.log(`${name}: born ${born.rps.toFixed(0)} req/s (p50 ${born.p50} ms, p99 ${born.p99} ms) vs onnxruntime-node ${ort.rps.toFixed(0)} req/s (p50 ${ort.p50} ms, p99 ${ort.p99} ms): ` +
      `throughput ${ratio.throughput.toFixed(2)}x, p99 ${ratio.p99.toFixed(2)}x; target (> 1x at <= 2x p99) ${met ? 'met' : 'NOT met'}; ${check}`);
  }

  if (!values['no-llm']) {
    const llm = await startBornServe({ llm: values.llm! }, ['--max-batch', '32'], { timeoutMs: 300_000 });
    const out: Record<string, { tokensPerS: number; firstTokenMsP50: number; runs: StreamRun[] }> = {};
    try {
      await streamRun(llm.url, 'llm', 1, 4); // warm-up: plans for prefill and decode
      for (const n of values['llm-streams']!.split(',').map(Number)) {
        const rs: StreamRun[] = [];
        for (let i = 0; i < Number(values['llm-runs']); i++) rs.push(await streamRun(llm.url, 'llm', n, Number(values['llm-tokens'])));
        out[n] = { tokensPerS: median(rs.map((r) => r.tokensPerS)), firstTokenMsP50: median(rs.flatMap((r) => r.firstTokenMs)), runs: rs };
        console.log(`llm ${path.basename(values.llm!)}: ${n} stream(s): ${out[n]!.tokensPerS.toFixed(1)} tokens/s in all (median of ${rs.length}), first token p50 ${out[n]!.firstTokenMsP50.toFixed(0)} ms, ${rs[0]!.tokens} tokens a run`);
      }
    } finally {
      await llm.stop();
    }
    report['llm'] = { file: path.basename(values.llm!), maxTokens: Number(values['llm-tokens']), streams: out };
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
