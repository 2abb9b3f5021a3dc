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

/** born serve with these arguments, to its exit. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((r) => child.on('exit', (code) => r({ code, stdout, stderr })));
}

it('--help, and mistakes in the call exit 2 before any work, naming the flag', async () => {
  const help = await run(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^usage: born serve --model FILE/);
  expect(help.stdout).toMatch(/--batches N +batches of a model running at once at most \(default 2\)/);
  for (const [args, message] of [
    [['--port', '0'], /--model FILE is required/],
    [['--model', path.join(tmp.dir, 'none.onnx')], /--model .*none\.onnx: no such file/],
    [['--model', file, '--max-batch', '0'], /--max-batch must be an integer >= 1, got '0'/],
    [['--model', file, '--batches', '0'], /--batches must be an integer >= 1, got '0'/],
    [['--model', file, '--body-limit', 'lots'], /--body-limit must be a size like 10mb/],
  ] as const) {
    const r = await run([...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('see born serve --help');
  }
});
