// The benchmark harness's own parts, without benchmarking: the Done-means verdicts on fixed
// figures; bench/export_models.py's files loading in Born (and in onnxruntime) with PyTorch's
// logits; `born bench` end to end on one quick workload and its flag checks (node dist/cli/main.js:
// build first).
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CASES, type CaseResult } from '../bench/common.js';
import { DONE_MEANS, DONE_MEANS_WORKLOADS, doneMeansTable, judge, type Target } from '../bench/done-means.js';
import { checkLogits, readIo } from '../bench/models.js';
import { MODELS } from '../src/cli/models.js';
import { DONE_MEANS_ONLY, runArgs } from '../src/cli/bench.js';
import { load, noGrad, tensor } from '../src/index.js';
import { PYTHON, pythonTest } from './reference/python.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'born-bench-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const fig = (median: number, extra: Partial<CaseResult> = {}): CaseResult => ({ id: '', unit: 'ms', median, min: median, n: 3, ...extra });
type Figures = Record<string, Record<string, CaseResult>>;
const results = (f: Figures): Map<string, Map<string, CaseResult>> => new Map(Object.entries(f).map(([p, cs]) => [p, new Map(Object.entries(cs))]));
const target = (caseId: string, peer: string): Target => DONE_MEANS.find((t) => t.caseId === caseId && t.peer === peer)!;

describe('Done means', () => {
  test('a time target passes at or under its threshold of the peer\'s time, and fails above', () => {
    const t = [target('chain', 'torch')];
    expect(judge(results({ born: { chain: fig(40) }, torch: { chain: fig(100) } }), t)[0]).toMatchObject({ status: 'pass', ratio: 0.4 });
    expect(judge(results({ born: { chain: fig(50) }, torch: { chain: fig(100) } }), t)[0]!.status).toBe('pass');
    expect(judge(results({ born: { chain: fig(60) }, torch: { chain: fig(100) } }), t)[0]).toMatchObject({ status: 'fail', ratio: 0.6 });
  });

  test('a speed target compares rates: the peer\'s time over Born\'s', () => {
    const t = [target('matmul_1024', 'tfjs-wasm')]; // ≥ 4x
    expect(judge(results({ born: { matmul_1024: fig(25) }, 'tfjs-wasm': { matmul_1024: fig(100) } }), t)[0]).toMatchObject({ status: 'pass', ratio: 4 });
    expect(judge(results({ born: { matmul_1024: fig(30) }, 'tfjs-wasm': { matmul_1024: fig(100) } }), t)[0]!.status).toBe('fail');
    const cnn = [target('train_cnn', 'torch')]; // ≥ 0.75x
    expect(judge(results({ born: { train_cnn: fig(130, { samples: 256 }) }, torch: { train_cnn: fig(100, { samples: 256 }) } }), cnn)[0]!.status).toBe('pass');
    expect(judge(results({ born: { train_cnn: fig(140, { samples: 256 }) }, torch: { train_cnn: fig(100, { samples: 256 }) } }), cnn)[0]!.status).toBe('fail');
  });

  test('batch-1 latency must be strictly lower than onnxruntime\'s', () => {
    const t = [target('infer_mlp_1', 'ort')];
    expect(judge(results({ born: { infer_mlp_1: fig(0.9) }, ort: { infer_mlp_1: fig(1) } }), t)[0]!.status).toBe('pass');
    expect(judge(results({ born: { infer_mlp_1: fig(1) }, ort: { infer_mlp_1: fig(1) } }), t)[0]!.status).toBe('fail');
  });

  test('a missing or failed figure is not measured; a failed result check fails the target', () => {
    const t = [target('sum_dim0', 'numpy')];
    expect(judge(results({ born: { sum_dim0: fig(5) } }), t)[0]).toMatchObject({ status: 'missing', why: 'numpy not measured' });
    expect(judge(results({ born: { sum_dim0: { id: 'sum_dim0', unit: 'ms', error: 'boom' } }, numpy: { sum_dim0: fig(5) } }), t)[0]).toMatchObject({ status: 'missing', why: 'Born: boom' });
    const v = judge(results({ born: { sum_dim0: fig(5, { check: 'WRONG: 3 values off' }) }, numpy: { sum_dim0: fig(5) } }), t)[0]!;
    expect(v.status).toBe('fail');
    expect(v.why).toContain('WRONG: 3 values off');
  });

  test('the targets are the issue\'s, and the table counts them', () => {
    expect(DONE_MEANS.map((t) => `${t.caseId}/${t.peer} ${t.kind} ${t.threshold}`)).toEqual([
      'chain/torch time 0.5', 'matmul_1024/tfjs-wasm speed 4', 'matmul_1024/torch speed 0.45', 'matmul_256/tfjs-wasm speed 2',
      'train_mlp/torch speed 1', 'train_cnn/torch speed 0.75', 'infer_mlp_256/ort speed 0.45', 'infer_mlp_1/ort time 1',
      'infer_cnn_256/ort speed 0.45', 'infer_cnn_1/ort time 1', 'sum_dim0/numpy time 1.5', 'sum_dim1/numpy time 1.5',
    ]);
    for (const t of DONE_MEANS) expect(CASES[t.workload].map((c) => c.id), t.caseId).toContain(t.caseId);
    expect(DONE_MEANS_WORKLOADS.join(',')).toBe('chain,matmul,train-mlp,train-cnn,infer-mlp,infer-cnn,reduce');
    expect(new Set(DONE_MEANS_ONLY.split(','))).toEqual(new Set(DONE_MEANS_WORKLOADS));
    const lines = doneMeansTable(judge(results({ born: { chain: fig(40) }, torch: { chain: fig(100) } })));
    expect(lines[2]).toBe("| gelu chain [4096, 4096], time | ≤ 0.5x PyTorch's time | 0.40x | pass |");
    expect(lines.at(-1)).toBe('1 of 12 targets met, 0 missed, 11 not measured.');
  });
});

describe('bench/export_models.py', () => {
  const torchTest = pythonTest(['torch', 'numpy']);
  torchTest('its weights load into the born train models and give PyTorch\'s logits; its ONNX files give them in onnxruntime', async () => {
    const dir = join(tmp, 'models');
    execFileSync(PYTHON, [join(ROOT, 'bench', 'export_models.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    const ort = await import('onnxruntime-node');
    for (const which of ['mlp', 'cnn'] as const) {
      const io = readIo(which, dir);
      const model = MODELS[which]();
      model.loadStateDict(await load(join(dir, `${which}.safetensors`)));
      model.eval();
      const y = noGrad(() => model.forward(tensor(io.input, { shape: [256, 1, 28, 28] })));
      expect(checkLogits(await y.data(), io, 256)).toMatch(/^ok/);
      // A wrong weight layout (here, every logit shifted) must fail the check.
      expect(checkLogits(Array.from(await y.data(), (v) => v + 1e-3), io, 256)).toMatch(/^WRONG/);
      const s = await ort.InferenceSession.create(join(dir, `${which}.onnx`), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
      const r = await s.run({ x: new ort.Tensor('float32', io.input.slice(0, 784 * 3), [3, 1, 28, 28]) });
      expect(r['y']!.dims).toEqual([3, 10]);
      expect(checkLogits(r['y']!.data as Float32Array, io, 3)).toMatch(/^ok/);
      await s.release();
    }
  }, 180_000);
});

interface Run { code: number; stdout: string; stderr: string }
const born = (args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: ROOT, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });

describe('born bench', () => {
  test('flags are checked before any work, and map onto bench/run.js\'s', async () => {
    expect(runArgs([])).toEqual({ args: ['--only', DONE_MEANS_ONLY, '--peers', 'installed'], build: true });
    expect(runArgs(['--quick', '--only', 'matmul', '--peers', 'born', '--no-merge', '--retries', '2', '--no-build']))
      .toEqual({ args: ['--only', 'matmul', '--peers', 'born', '--quick', '--no-merge', '--retries', '2'], build: false });
    const bad = await born(['bench', '--retries', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("born bench: --retries must be an integer >= 0, got 'many'");
    const unknown = await born(['bench', '--fast']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--fast'");
  });

  test('from an installed package (dist/ without bench/) it says that it needs the checkout', async () => {
    const pkg = join(tmp, 'installed');
    mkdirSync(pkg);
    cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const r = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [join(pkg, 'dist', 'cli', 'main.js'), 'bench', '--quick'], { cwd: pkg, timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('born bench: the benchmark suite is part of the source checkout, not of the package');
  });

  test('--quick --only matmul --peers born runs end to end, writes the table and prints the Done-means summary', async () => {
    const out = join(tmp, 'RESULTS.md');
    const r = await born(['bench', '--quick', '--only', 'matmul', '--peers', 'born', '--no-merge', '--out', out]);
    expect(r.stderr).not.toContain('CHECK FAILED');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| matmul fp32 1024 \| GFLOP\/s \| [\d.]+ \(/);
    expect(r.stdout).toContain('Done means (issue 9)');
    expect(r.stdout).toMatch(/\| matmul fp32 256, GFLOP\/s \| ≥ 2x tfjs-wasm \| – \| not measured \(tfjs-wasm not measured\) \|/);
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('## Done means (issue 9)');
    expect(md).toMatch(/- matmul_1024: ok/);
    expect(existsSync(out.replace(/\.md$/, '.json'))).toBe(true);
    const bad = await born(['bench', '--no-build', '--only', 'nope', '--no-write']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown workload nope');
  }, 240_000);
});
