// `import born` evaluates neither the language-model modules (beyond the tokenizers) nor the ONNX
// ones (issue 13, cold start), and born.llm works once they load on first use. The module list is
// taken in a child process running the package build (dist/, npm run build) under a loader hook
// that reports every module it loads.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = new URL('../dist/index.js', import.meta.url).href;
// The package entry (package.json's exports): the bundle of scripts/bundle.mjs.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: { '.': { import: string } } };
const packageEntry = new URL(`../${pkg.exports['.'].import}`, import.meta.url).href;
const fixture = fileURLToPath(new URL('./llm/fixtures/tiny_unshared.bin', import.meta.url));

// The hook prints each module URL on stderr, synchronously and in load order.
const HOOK = 'export async function load(url, context, next) { process._rawDebug("MOD " + url); return next(url, context); }';
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`)}`;

/** The dist/ modules (relative paths) loaded by `import born`, and what `extra` (a function body run after it) returns. */
function modulesAfterImport(extra = '', from = entry): { modules: string[]; out: unknown } {
  const script = `const born = await import(${JSON.stringify(from)}); process._rawDebug("IMPORTED"); const out = await (async () => { ${extra} })(); process._rawDebug("OUT " + JSON.stringify(out ?? null)); process.exit(0);`;
  const r = spawn(script);
  const [beforeLines] = r.split('\nIMPORTED\n');
  const modules = (beforeLines ?? '').split('\n').filter((l) => l.startsWith('MOD ')).map((l) => l.slice(4))
    .filter((u) => u.includes('/dist/')).map((u) => u.slice(u.indexOf('/dist/') + 6));
  const outLine = r.split('\n').find((l) => l.startsWith('OUT '));
  return { modules, out: outLine ? JSON.parse(outLine.slice(4)) : undefined };
}

/** The stderr of one child: the hook's lines and the script's, in order (both write it synchronously). */
function spawn(script: string): string {
  const r = spawnSync(process.execPath, ['--import', REGISTER, '--input-type=module', '-e', script], {
    cwd: root, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child exited ${r.status ?? r.signal}: ${r.stderr.split('\n').filter((l) => !l.startsWith('MOD ')).join('\n').slice(-1500)}`);
  return r.stderr;
}

describe('import born stays light', () => {
  test('no module of src/llm (but the tokenizers) or src/onnx is evaluated at import', () => {
    const { modules } = modulesAfterImport();
    expect(modules).toContain('index.js');
    expect(modules.some((m) => m.startsWith('scheduler/'))).toBe(true); // the hook saw the import itself
    expect(modules.filter((m) => m.startsWith('llm/') && !m.startsWith('llm/tokenizer/'))).toEqual([]);
    expect(modules.filter((m) => m.startsWith('onnx/'))).toEqual([]);
  });

  test('the package entry loads neither the llm nor the onnx chunk of its bundle at import', () => {
    const { modules } = modulesAfterImport('', packageEntry);
    expect(modules.length).toBeGreaterThan(0);
    // Split out into chunks of their own (else the check below would pass for nothing).
    const files = readdirSync(fileURLToPath(new URL('.', packageEntry)));
    expect(files.some((f) => /^llm-\w+\.js$/.test(f)) && files.some((f) => /^onnx-\w+\.js$/.test(f))).toBe(true);
    expect(modules.filter((m) => /(^|\/)(llm|onnx)[-/]/.test(m) && !m.startsWith('llm/tokenizer/'))).toEqual([]);
  });

  test('born.llm.load works from a fresh import, and then every member of born.llm can be read', () => {
    const { out } = modulesAfterImport(`
      let before = null;
      try { born.llm.Llm; } catch (e) { before = e.message; }
      const llm = await born.llm.load(${JSON.stringify(fixture)});
      const logits = await llm.logits([1, 2, 3]).data();
      const again = new born.llm.Llm(llm.model, llm.config);
      const same = await again.logits([1, 2, 3]).data();
      return { before, isLlm: llm instanceof born.llm.Llm, n: logits.length, vocab: llm.config.vocabSize,
        same: logits.every((v, i) => v === same[i]), members: Object.keys(born.llm).filter((k) => born.llm[k] === undefined) };`);
    const o = out as { before: string; isLlm: boolean; n: number; vocab: number; same: boolean; members: string[] };
    expect(o.before).toMatch(/born\.llm\.Llm is not loaded yet.*born\.llm\.ready\(\)/);
    expect(o.isLlm).toBe(true);
    expect(o.n).toBe(3 * o.vocab);
    expect(o.same).toBe(true);
    expect(o.members).toEqual([]);
  });
});
