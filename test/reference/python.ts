/**
 * Tests that run Debian's /usr/bin/python3 (PyTorch reading what Born wrote). Where the Python
 * modules are missing they skip, except under CI, where they fail: a clean CI machine must run
 * them (.ci/run installs python3-torch and python3-numpy), not pass them silently.
 */
import { execFileSync } from 'node:child_process';
import { test } from 'vitest';
import { onCI } from './ci.js';

export const PYTHON = '/usr/bin/python3';

const probed = new Map<string, string | null>();

/** Null when `PYTHON` imports every module; else why not (the interpreter's last line). */
export function pythonMissing(modules: readonly string[]): string | null {
  const k = modules.join(',');
  if (!probed.has(k)) {
    let why: string | null = null;
    try {
      execFileSync(PYTHON, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    } catch (e) {
      const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim().split('\n').pop();
      why = stderr || String((e as Error).message);
    }
    probed.set(k, why);
  }
  return probed.get(k)!;
}

type Body = () => unknown;

/**
 * `test` for a test that needs `PYTHON` with `modules`: a plain test where they import, a
 * skipped one where they do not, and under CI a failing one that says what is missing.
 */
export function pythonTest(modules: readonly string[]): (name: string, body: Body, timeout?: number) => void {
  const missing = pythonMissing(modules);
  if (missing === null) return (name, body, timeout) => test(name, body, timeout);
  if (!onCI) return (name, body, timeout) => test.skip(name, body, timeout);
  return (name, _body, timeout) => test(name, () => {
    throw new Error(`${name}: needs ${PYTHON} with ${modules.join(', ')} (${missing}); ` +
      `.ci/run installs them (Debian: apt-get install python3-torch python3-numpy), or unset CI to skip`);
  }, timeout);
}
