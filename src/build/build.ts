/**
 * `born build`: one executable file serving models, as a Node single-executable application.
 * Node runs one CommonJS script from the executable (sea-main.ts); Born is ES modules over many
 * files with worker threads and optional native addons, so rather than rewriting it into one
 * script the executable carries Born's installed files (collect.ts) as a gzipped asset and
 * unpacks them once into a cache directory, with the models as further assets.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { collect } from './collect.js';
import { ASSETS, type EmbeddedModel, type Manifest } from './manifest.js';
import { seaMainScript } from './sea-main.js';

const run = promisify(execFile);

/** The marker postject flips in a Node binary to say it carries a blob (Node's documented value). */
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface BuildOptions {
  /** The models, served under `name`. */
  models: Array<{ name: string; file: string }>;
  /** The executable to write (replaced if it exists). */
  out: string;
  /** The Node binary the executable is made from (default: the one running). */
  node?: string;
}

export interface BuildResult {
  out: string;
  /** The executable's size in bytes. */
  bytes: number;
  /** Files carried (Born's and its dependencies') and their gzipped size in bytes. */
  files: number;
  archiveBytes: number;
  ms: number;
}

/** Born's package directory: two levels above this module (dist/build/ or, under vitest, src/build/). */
const packageRoot = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Why this Node binary cannot become a single executable, or null if it can. */
export async function seaUnsupported(node = process.execPath): Promise<string | null> {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 12)) return `Node ${process.versions.node} has no single-executable assets (20.12 or newer)`;
  if (process.platform === 'win32') return 'born build makes Linux and macOS executables';
  const binary = await readFile(node);
  if (binary.indexOf(`${SEA_FUSE}:0`) < 0) {
    return binary.indexOf(`${SEA_FUSE}:1`) >= 0 ? `${node} already is a single executable` : `${node} was built without single-executable support`;
  }
  return null;
}

async function injectBlob(target: string, blob: string): Promise<void> {
  const cli = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  const args = [cli, target, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE];
  if (process.platform === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
  try {
    await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    // postject's own chatter (LIEF warnings) is only worth showing when it failed.
    const { stderr = '', stdout = '' } = e as { stderr?: string; stdout?: string };
    throw new Error(`born build: postject failed: ${(e as Error).message}\n${stdout}${stderr}`);
  }
}

export async function buildExecutable(opts: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const node = opts.node ?? process.execPath;
  const why = await seaUnsupported(node);
  if (why) throw new Error(`born build: ${why}`);
  const collection = collect(packageRoot());
  const work = await mkdtemp(path.join(tmpdir(), 'born-build-'));
  const partial = `${opts.out}.partial-${process.pid}`;
  try {
    const archive = gzipSync(Buffer.concat(await Promise.all(collection.files.map((f) => readFile(f.source)))));
    const hash = createHash('sha256').update(archive);
    const models: EmbeddedModel[] = [];
    const assets: Record<string, string> = {};
    for (const [i, m] of opts.models.entries()) {
      const bytes = await readFile(m.file);
      hash.update(`\0${m.name}\0`).update(bytes);
      const asset = ASSETS.model(i);
      assets[asset] = path.resolve(m.file);
      models.push({ name: m.name, asset, file: `models/${i}/${path.basename(m.file)}`, size: bytes.length });
    }
    const manifest: Manifest = {
      format: 1,
      hash: hash.digest('hex').slice(0, 32),
      entry: path.posix.join(collection.root, 'dist/build/sea-entry.js'),
      files: collection.files.map((f) => [f.name, f.size, f.executable]),
      models,
    };
    const file = (name: string): string => path.join(work, name);
    await writeFile(file('files.gz'), archive);
    await writeFile(file('manifest.json'), JSON.stringify(manifest));
    await writeFile(file('main.cjs'), seaMainScript({ manifest: ASSETS.manifest, files: ASSETS.files }));
    await writeFile(file('sea-config.json'), JSON.stringify({
      main: file('main.cjs'),
      output: file('app.blob'),
      disableExperimentalSEAWarning: true,
      assets: { [ASSETS.manifest]: file('manifest.json'), [ASSETS.files]: file('files.gz'), ...assets },
    }));
    // The blob must come from the binary it goes into.
    await run(node, ['--experimental-sea-config', file('sea-config.json')], { cwd: work });
    await copyFile(node, partial);
    await chmod(partial, 0o755);
    await injectBlob(partial, file('app.blob'));
    await rename(partial, opts.out);
    const { size } = await stat(opts.out);
    return { out: opts.out, bytes: size, files: collection.files.length, archiveBytes: archive.length, ms: performance.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}
