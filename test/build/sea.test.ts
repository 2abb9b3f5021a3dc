// `born build` end to end: an executable made from a saved MLP, copied alone into an empty
// directory (no node_modules, no dist, a fresh unpack cache), serves predictions equal to Born's
// in-process forward pass and exits 0 on SIGTERM. Runs the CLI from dist/ (build first).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { manualSeed, noGrad, save, tensor, engine } from '../../src/index.js';
import { MODELS } from '../../src/cli/models.js';
import { seaUnsupported } from '../../src/build/build.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const unsupported = await seaUnsupported();
const tmp = mkdtempSync(join(tmpdir(), 'born-sea-test-'));
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
  await engine.shutdown();
});

function bornBuild(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'build', ...args], { cwd: tmp, timeout: 50_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The address from born serve's `listening on` line, or the output so far if it exits first. */
function listening(p: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    p.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /born serve: listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    p.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    p.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${out}\n${err}`)));
  });
}

const exited = (p: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (p.exitCode !== null ? resolve(p.exitCode) : p.once('exit', (code) => resolve(code))));

describe.skipIf(unsupported !== null)(`born build (${unsupported ?? 'single executables supported'})`, () => {
  test('the executable serves the embedded MLP from an empty directory and drains on SIGTERM', async () => {
    manualSeed(3);
    const model = MODELS.mlp();
    model.eval();
    const weights = join(tmp, 'weights.safetensors');
    await save(model.stateDict(), weights, { metadata: { model: 'mlp' } });
    const input = Array.from({ length: 28 }, (_, i) => Array.from({ length: 28 }, (_, j) => ((i * 28 + j) % 17) / 17 - 0.4));
    const expected = (await noGrad(() => model.forward(tensor([[input]]))).tolist()) as number[][];

    const built = await bornBuild(['--model', `digits=${weights}`, '--out', join(tmp, 'app')]);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(built.stdout).toMatch(/born build: wrote .*app/);

    const clean = join(tmp, 'clean');
    mkdirSync(clean);
    copyFileSync(join(tmp, 'app'), join(clean, 'app'));
    expect(readdirSync(clean)).toEqual(['app']);
    expect(statSync(join(clean, 'app')).mode & 0o100).not.toBe(0);
    const cache = join(clean, 'cache');
    // No NODE_OPTIONS or NODE_PATH from the test runner: only what the executable carries.
    child = spawn(join(clean, 'app'), ['--port', '0', '--host', '127.0.0.1'], {
      cwd: clean, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: clean, BORN_SEA_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const address = await listening(child);
    const res = await fetch(`${address}/v1/models/digits:predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [[input]] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: Record<string, number[][]> };
    const outputs = Object.values(body.outputs);
    expect(outputs).toHaveLength(1);
    const got = outputs[0]!;
    expect(got).toHaveLength(1);
    expect(got[0]).toHaveLength(10);
    got[0]!.forEach((v, k) => expect(v).toBeCloseTo(expected[0]![k]!, 5));

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    child = undefined;
    // One unpacked tree, named by the executable's hash, and no half-written sibling left behind.
    expect(readdirSync(cache)).toHaveLength(1);
  });

  test('a missing model file is a usage error before any work', async () => {
    const r = await bornBuild(['--model', join(tmp, 'none.safetensors'), '--out', join(tmp, 'never')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--model .*none\.safetensors: no such file/);
  });
});
