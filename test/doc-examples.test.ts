// Doc-tests: every ```ts example in README.md and docs/*.md runs against the built package
// (`import … from 'born'` resolves through package.json's "name" and "exports" to dist/index.js,
// as it does for a user), so no example drifts from the code. Build first.
//
// A line `EXPR; // → RESULT` (or `const v = EXPR; // → RESULT`) also checks its result: RESULT is
// JSON (a number written with decimals matches to those decimals, `// → 0.7311` accepts 0.73105…;
// one written as an integer matches to float32's precision) or, when it is not
// JSON, the exact text (`\n` in it stands for a line break). A Tensor result is compared through tolist(), a typed array as an array.
// The examples of one page run in one Node process, in order, each as its own module, in the
// repository's root directory (an example may read test/fixtures).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the package (its package.json names it "born"), so the bare specifier 'born' resolves to
// the package itself; ignored by git, and outside dist/ so that npm pack never ships it.
const OUT = join(ROOT, '.doc-examples');

interface Example { page: string; line: number; source: string }

/** The ```ts blocks of a Markdown file, with the line each starts on. */
export function extract(page: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j]!)) j++;
    out.push({ page, line: start + 1, source: lines.slice(start, j).join('\n') });
    i = j;
  }
  return out;
}

const CHECK = /^(\s*)(?:(?:const|let)\s+([A-Za-z_$][\w$]*)\s*=\s*)?(.+?);\s*\/\/ → (.+)$/;

/** The example with its `// → RESULT` lines turned into checks, as ESM JavaScript. */
export function instrument(ex: Example): string {
  const lines = ex.source.split('\n').map((l, k) => {
    const m = CHECK.exec(l);
    if (!m) return l;
    const [, indent, name, expr, expected] = m;
    const where = JSON.stringify(`${ex.page}:${ex.line + k}`);
    const want = JSON.stringify(expected!.trim());
    return name
      ? `${indent}const ${name} = ${expr}; await globalThis.__docCheck(${name}, ${want}, ${where});`
      : `${indent}await globalThis.__docCheck(${expr}, ${want}, ${where});`;
  });
  return ts.transpileModule(lines.join('\n'), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    fileName: 'example.ts',
  }).outputText;
}

/** Runs in the child process: compares a result with what the comment says. */
const RUNTIME = String.raw`
const decimals = (s) => { const m = /\.(\d+)(?:e|$)/i.exec(String(s)); return m ? m[1].length : 0; };
async function plain(v) {
  if (v && typeof v === 'object' && typeof v.tolist === 'function' && 'dtype' in v) return v.tolist();
  if (ArrayBuffer.isView(v)) return Array.from(v, (x) => typeof x === 'bigint' ? Number(x) : x);
  return v;
}
function same(a, w, raw) {
  if (typeof w === 'number' && typeof a === 'number') {
    if (Number.isNaN(w)) return Number.isNaN(a);
    const d = decimals(raw ?? w);
    // Written with decimals: to those decimals. Written as an integer: to float32's precision.
    return d > 0 ? Math.abs(a - w) <= 0.5 * 10 ** -d * (1 + 1e-9) : Math.abs(a - w) <= 1e-6 * Math.max(1, Math.abs(w));
  }
  if (Array.isArray(w)) return Array.isArray(a) && a.length === w.length && w.every((x, i) => same(a[i], x, rawItems(raw)?.[i]));
  if (w && typeof w === 'object') return a && typeof a === 'object' && Object.keys(w).every((k) => same(a[k], w[k]));
  return a === w;
}
// The written form of each number in a JSON array (to count its decimals); flat arrays only.
const rawItems = (raw) => typeof raw === 'string' && /^\[[^\[\]]*\]$/.test(raw) ? raw.slice(1, -1).split(',').map((s) => s.trim()) : undefined;
globalThis.__docCheck = async (value, expected, where) => {
  const actual = await plain(await value);
  let want, json = true;
  try { want = JSON.parse(expected); } catch { json = false; }
  const text = expected.replace(/\\n/g, '\n');
  const ok = json ? same(actual, want, expected) : (typeof actual === 'string' ? actual : String(actual)) === text;
  if (!ok) throw new Error(where + ': the comment says ' + expected + ', the example gives ' + (typeof actual === 'string' ? actual : JSON.stringify(actual)));
};
const results = [];
for (const file of process.argv.slice(2)) {
  try { await import(file); results.push({ ok: true }); }
  catch (e) { results.push({ ok: false, error: e && e.stack ? String(e.stack) : String(e) }); }
}
try { (await import('born')).engine.shutdown(); } catch {}
process.stdout.write('\n@@results ' + JSON.stringify(results) + '\n');
process.exit(0);
`;

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const examples = new Map(pages.map((p) => [p, extract(p, readFileSync(join(ROOT, p), 'utf8'))]));

interface Result { ok: boolean; error?: string }
const results = new Map<string, Promise<{ results: Result[]; output: string }>>();

function runPage(page: string, exs: Example[]): Promise<{ results: Result[]; output: string }> {
  const dir = join(OUT, page.replace(/[^\w]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = exs.map((ex, i) => {
    const f = join(dir, `example-${i}-line-${ex.line}.mjs`);
    writeFileSync(f, instrument(ex));
    return f;
  });
  const runner = join(dir, 'run.mjs');
  writeFileSync(runner, RUNTIME);
  return new Promise((resolve) => {
    execFile(process.execPath, [runner, ...files], { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      const m = /\n@@results (.*)\n/.exec(stdout);
      const output = `${stdout}\n${stderr}`;
      if (!m) resolve({ results: exs.map(() => ({ ok: false, error: `the examples' process failed (${err?.message}):\n${output}` })), output });
      else resolve({ results: JSON.parse(m[1]!) as Result[], output });
    });
  });
}

// Transpiling every example is synchronous work that takes seconds on a busy machine.
beforeAll(() => {
  for (const [page, exs] of examples) if (exs.length) results.set(page, runPage(page, exs));
}, 120_000);

test('every page but the index has examples', () => {
  for (const page of pages) if (page !== 'docs/README.md') expect(examples.get(page)!.length, page).toBeGreaterThan(0);
});

for (const [page, exs] of examples) {
  if (!exs.length) continue;
  describe(page, () => {
    exs.forEach((ex, i) => {
      test(`example at line ${ex.line}`, async () => {
        const r = (await results.get(page)!).results[i]!;
        expect(r.ok, r.error).toBe(true);
      }, 120_000);
    });
  });
}

test('every example type-checks against the package\'s declarations (dist/index.d.ts)', () => {
  const dir = join(OUT, 'typecheck');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, Example>();
  for (const exs of examples.values()) {
    for (const ex of exs) {
      const f = join(dir, `${ex.page.replace(/[^\w]/g, '_')}-line-${ex.line}.mts`);
      writeFileSync(f, `${ex.source}\nexport {};\n`); // a module: top-level await
      files.set(f, ex);
    }
  }
  const program = ts.createProgram([...files.keys()], {
    target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const ex = d.file && files.get(d.file.fileName);
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    return `${ex ? `${ex.page}:${ex.line + line}` : d.file?.fileName ?? '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
  expect(problems).toEqual([]);
}, 120_000);

describe('the checker', () => {
  test('turns `// → RESULT` lines into checks and leaves others alone', () => {
    const js = instrument({ page: 'p.md', line: 10, source: "const n = 1 + 1; // → 2\nawait x.tolist(); // → [1, 2]\nconsole.log(1); // a note" });
    expect(js).toContain('const n = 1 + 1;');
    expect(js).toContain('__docCheck(n, "2", "p.md:10")');
    expect(js).toContain('__docCheck(await x.tolist(), "[1, 2]", "p.md:11")');
    expect(js).toContain('console.log(1); // a note');
  });
});

test('a comment that states a wrong result fails its example', async () => {
  const { results: [bad, good] } = await runPage('checker.md', [
    { page: 'checker.md', line: 1, source: "import * as born from 'born';\nawait born.tensor([1, 2]).sum().item(); // → 4" },
    { page: 'checker.md', line: 5, source: "import * as born from 'born';\nawait born.tensor([1, 2]).div(3).tolist(); // → [0.3333, 0.6667]" },
  ]);
  expect(bad!.ok).toBe(false);
  expect(bad!.error).toContain('checker.md:2: the comment says 4, the example gives 3');
  expect(good!.ok, good!.error).toBe(true);
});
