/**
 * The files an executable made by `born build` carries: Born's package (package.json and the
 * compiled dist/) and every package its runtime dependencies pull in, found the way Node finds
 * them (node_modules/NAME in the requiring package's directory or any directory above it), so
 * a source checkout and an npm installation (dependencies hoisted beside born) both work.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Dependencies the server never loads: WebGPU's native addon (optional: the CPU device runs without it) and the injector itself. */
export const LEFT_OUT_DEPENDENCIES: readonly string[] = ['webgpu', 'postject'];

export interface CollectedFile {
  /** Path inside the archive, with '/' separators, relative to `Collection.base`. */
  name: string;
  /** Where it is read from. */
  source: string;
  size: number;
  executable: boolean;
}

export interface Collection {
  /** The common directory of Born's package and its dependencies; archive names are relative to it. */
  base: string;
  /** Born's package directory relative to `base` ('' in a source checkout). */
  root: string;
  files: CollectedFile[];
  /** Package directories carried, relative to `base`. */
  packages: string[];
}

// Files and directories no package needs at run time: documentation, types, source maps, tests.
const SKIPPED_DIRS = new Set(['node_modules', 'test', 'tests', '__tests__', 'docs', 'example', 'examples', 'benchmark', 'benchmarks', '.github']);
const SKIPPED_FILE = /\.(md|markdown|d\.ts|d\.mts|d\.cts|map|ts|mts|cts|tsbuildinfo)$/i;

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const readPackage = (dir: string): PackageJson => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;

/** node_modules/NAME from `from` upwards, as Node's resolver walks; null when not installed (an optional dependency of another platform). */
function findPackage(name: string, from: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/** The package directories Born's runtime dependencies reach, Born's own first. */
export function dependencyClosure(root: string): string[] {
  const seen = new Set<string>([root]);
  const visit = (dir: string): void => {
    const pkg = readPackage(dir);
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      if (dir === root && LEFT_OUT_DEPENDENCIES.includes(name)) continue;
      const found = findPackage(name, dir);
      if (found === null) {
        if (pkg.optionalDependencies?.[name] !== undefined) continue;
        throw new Error(`born build: ${pkg.name ?? dir} depends on ${name}, which is not installed`);
      }
      if (seen.has(found)) continue;
      seen.add(found);
      visit(found);
    }
  };
  visit(root);
  return [...seen];
}

function commonDirectory(dirs: readonly string[]): string {
  let common = dirs[0]!;
  for (const d of dirs) {
    while (path.relative(common, d).startsWith('..')) common = path.dirname(common);
  }
  return common;
}

function walk(dir: string, skipDirs: ReadonlySet<string>, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    // Links are followed (stat, not lstat): node_modules may itself be a link.
    let st;
    try { st = statSync(full); } catch { continue; } // a dangling link
    if (st.isDirectory()) {
      if (!skipDirs.has(entry.name)) walk(full, skipDirs, out);
    } else if (st.isFile() && !SKIPPED_FILE.test(entry.name)) {
      out.push(full);
    }
  }
}

/** Everything the executable unpacks: Born's package.json and dist/, then each dependency's files. */
export function collect(root: string): Collection {
  const dist = path.join(root, 'dist');
  if (!existsSync(path.join(dist, 'cli', 'main.js'))) throw new Error(`born build: ${dist} holds no compiled Born (npm run build)`);
  const packages = dependencyClosure(root);
  const base = commonDirectory(packages);
  const sources: string[] = [path.join(root, 'package.json')];
  for (const f of ['LICENSE', 'NOTICE']) if (existsSync(path.join(root, f))) sources.push(path.join(root, f));
  walk(dist, new Set(['node_modules']), sources);
  for (const dir of packages.slice(1)) walk(dir, SKIPPED_DIRS, sources);
  const files = sources.map((source) => {
    const st = statSync(source);
    return { name: path.relative(base, source).split(path.sep).join('/'), source, size: st.size, executable: (st.mode & 0o111) !== 0 };
  });
  return {
    base,
    root: path.relative(base, root).split(path.sep).join('/'),
    files,
    packages: packages.map((p) => path.relative(base, p).split(path.sep).join('/')),
  };
}
