// A server in a child process that prints `<name>: listening on http://HOST:PORT` once it is
// ready (born serve's contract, which bench/serve/ort-server.ts keeps too): spawn it, wait for
// that line, and stop it. Shared by bench/serve.ts and test/deploy/nginx.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The checkout: bench/serve/ from the sources (vitest), dist-bench/bench/serve/ compiled. */
export const ROOT = path.resolve(here, here.split(path.sep).includes('dist-bench') ? '../../..' : '../..');
/** dist/cli/main.js of this checkout (npm run build first). */
export const BORN_MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface ServerProcess {
  child: ChildProcess;
  /** http://HOST:PORT, from the listening line. */
  url: string;
  port: number;
  /** What the process wrote to stderr so far (for error messages). */
  stderr(): string;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const LISTENING = /^([\w .-]+): listening on (http:\/\/[^\s:]+:(\d+))\s*$/m;

/** Spawns `node ARGS...` and resolves when it prints its listening line (rejects if it exits first or after `timeoutMs`). */
export function startServer(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let out = '', err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop('SIGKILL'); reject(new Error(`no listening line after ${opts.timeoutMs ?? 30_000} ms from node ${args.join(' ')}\n${err}`)); }, opts.timeoutMs ?? 30_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = LISTENING.exec(out);
      if (!m) return;
      clearTimeout(timer);
      // Keep draining stdout so a chatty server never blocks on a full pipe.
      out = '';
      resolve({ child, url: m[2]!, port: Number(m[3]), stderr: () => err, stop });
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { err = (err + s).slice(-20_000); });
    child.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`node ${args.join(' ')} exited (${sig ?? code}) before listening\n${err}`)); });
  });
}

/** Whether this checkout's build has the serve command (src/cli/serve.ts). */
export const hasBornServe = (): boolean => existsSync(path.join(ROOT, 'dist', 'cli', 'serve.js'));

/** `born serve --model NAME=FILE ... --port 0 --host 127.0.0.1 EXTRA...`. */
export function startBornServe(models: Record<string, string>, extra: string[] = [], opts: { timeoutMs?: number } = {}): Promise<ServerProcess> {
  const flags = Object.entries(models).flatMap(([name, file]) => ['--model', `${name}=${file}`]);
  return startServer([BORN_MAIN, 'serve', ...flags, '--port', '0', '--host', '127.0.0.1', ...extra], opts);
}
