// The round trip of issue 11: `born train` (a tiny run on the committed 64-example Fashion-MNIST
// subset) → `born export` → onnxruntime-node gives the logits Born computes from the same weights
// on the same inputs (|ort - born| <= 1e-4 + 1e-4·|born|), at batch sizes other than the recorded
// one (the batch is symbolic by default) and at the fixed one with --static-batch. The command runs
// as a user runs it: node dist/cli/main.js (build first).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { MODELS, type ModelName } from '../src/cli/models.js';
import { load } from '../src/io/safetensors.js';
import { decodeModel } from '../src/onnx/proto.js';
import { expectClose, onnxCheck } from './onnx/export-harness.js';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const DATA = fileURLToPath(new URL('./fixtures/fashion-mnist', import.meta.url));

interface Run { code: number; stdout: string; stderr: string }
function born_(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'born-cli-export-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const quick = ['--data', DATA, '--epochs', '1', '--limit', '16', '--batch-size', '8', '--no-install'];

/** A directory holding w.safetensors of `name`, trained once per model for the whole file. */
const runs = new Map<ModelName, Promise<string>>();
function trained(name: ModelName): Promise<string> {
  let p = runs.get(name);
  if (!p) {
    p = (async () => {
      const cwd = mkdtempSync(join(tmp, name));
      const r = await born_(['train', '--model', name, ...quick, '--out', 'w.safetensors'], cwd);
      expect(r.code, r.stderr).toBe(0);
      return cwd;
    })();
    runs.set(name, p);
  }
  return p;
}

/** Born's logits for `x` from the weights file, as born eval computes them. */
async function bornLogits(name: ModelName, weights: string, x: born.Tensor): Promise<Float32Array> {
  const m = MODELS[name]();
  m.loadStateDict(await load(weights));
  m.eval();
  return born.noGrad(() => m.forward(x)).data() as Promise<Float32Array>;
}

async function ortLogits(file: string, x: born.Tensor): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(readFileSync(file));
  const r = await s.run({ input: new ort.Tensor('float32', await x.data() as Float32Array, [...x.shape]) });
  return r.logits!;
}

describe('born train → born export → onnxruntime', () => {
  for (const name of ['mlp', 'cnn'] as const) {
    test(`${name}: the same logits at batch 3 and 1 from a file recorded at batch 2`, async () => {
      const cwd = await trained(name);
      const exported = await born_(['export', '--weights', 'w.safetensors', '--out', 'm.onnx', '--batch', '2'], cwd);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain(`wrote m.onnx (model ${name}`);
      const file = join(cwd, 'm.onnx');
      for (const n of [3, 1]) {
        const x = born.rand([n, 1, 28, 28]);
        const got = await ortLogits(file, x);
        expect(got.dims).toEqual([n, 10]);
        expectClose(got.data as Float32Array, await bornLogits(name, join(cwd, 'w.safetensors'), x), `${name} logits at batch ${n}`);
      }
      onnxCheck(readFileSync(file));
    });
  }

  test('--static-batch fixes the batch at --batch; --model must match the weights; bad flags exit 2', async () => {
    const cwd = await trained('mlp');
    expect((await born_(['export', '--weights', 'w.safetensors', '--out', 's.onnx', '--batch', '4', '--static-batch', '--opset', '18'], cwd)).code).toBe(0);
    const proto = decodeModel(readFileSync(join(cwd, 's.onnx')));
    expect(proto.graph!.input![0]!.type!.tensor_type!.shape!.dim!.map((d) => d.dim_value)).toEqual([4, 1, 28, 28]);
    expect(proto.opset_import![0]!.version).toBe(18);
    const x = born.rand([4, 1, 28, 28]);
    expectClose((await ortLogits(join(cwd, 's.onnx'), x)).data as Float32Array, await bornLogits('mlp', join(cwd, 'w.safetensors'), x), 'static logits');

    const wrong = await born_(['export', '--weights', 'w.safetensors', '--model', 'cnn'], cwd);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("holds the weights of model 'mlp'");
    const none = await born_(['export'], cwd);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--weights FILE is required');
    const opset = await born_(['export', '--weights', 'w.safetensors', '--opset', '13'], cwd);
    expect(opset.code).toBe(2);
    expect(opset.stderr).toContain('--opset must be an integer >= 17');
    const help = await born_(['export', '--help'], cwd);
    expect(help.stdout).toContain('usage: born export');
  });
});
