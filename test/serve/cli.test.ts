// `born serve` as a process (node dist/cli/main.js, so build first): the listening line of the
// command-line contract, SIGHUP reloading the model file, and SIGTERM with requests in flight:
// every one answered, then exit status 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { metric, predict, tempDir, until, writeTinyOnnx } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const tmp = tempDir();
const file = path.join(tmp.dir, 'tiny.onnx');
const children: ChildProcess[] = [];
beforeAll(async () => { await writeTinyOnnx(file, 0); });
afterAll(() => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); tmp.remove(); });

/** Starts born serve; resolves with its URL once it prints the listening line. */
function bornServe(args: string[]): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '', err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^born serve: listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) resolve({ child, url: m[1]!, exit, stderr: () => err });
    });
    void exit.then((code) => reject(new Error(`born serve exited with ${code} before listening: ${err}`)));
  });
}

const y = async (r: Response): Promise<number[]> => ((await r.json()) as { outputs: { y: number[][] } }).outputs.y[0]!;

it('SIGHUP reloads the model file; SIGTERM answers every request in flight, then exits 0', async () => {
  const s = await bornServe(['--model', file, '--port', '0', '--max-batch', '64', '--max-wait-ms', '20000']);
  const row = [1, 2, 3, 4];
  // 64 rows fill a batch: answered at once, without --max-wait-ms (long here, so that the drain below finds requests queued).
  const full = { inputs: Array(64).fill(row) };
  const old = await y(await predict(s.url, 'tiny', full)); // named after the file
  const next = path.join(tmp.dir, 'next.onnx');
  await writeTinyOnnx(next, 1);
  renameSync(next, file);
  s.child.kill('SIGHUP');
  await until(async () => (await metric(s.url, 'born_serve_model_reloads_total', { model: 'tiny', result: 'ok' })) === 1, 'the reload', 10_000);
  const fresh = await y(await predict(s.url, 'tiny', full));
  expect(fresh).not.toEqual(old);

  const inflight = Array.from({ length: 12 }, () => predict(s.url, 'tiny', { inputs: [row] }));
  await until(async () => (await metric(s.url, 'born_serve_queue_depth', { model: 'tiny' })) === 12, 'twelve queued');
  s.child.kill('SIGTERM');
  const answers = await Promise.all(inflight);
  expect(answers.map((r) => r.status)).toEqual(Array(12).fill(200));
  for (const r of answers) expect(await y(r)).toEqual(fresh);
  expect(await s.exit).toBe(0);
  expect(s.stderr()).toMatch(/reloaded model 'tiny'/);
  await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
});

it('a mistake in the call exits 2 before any work', async () => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  expect(await new Promise((r) => child.on('exit', r))).toBe(2);
  expect(err).toMatch(/--model FILE is required/);
});
