/**
 * The script a single executable starts with. Node runs it as one CommonJS script whose
 * `require` knows only built-in modules, so it is written as one self-contained function that
 * `born build` prints into the executable (seaMainScript): it unpacks the embedded files (Born's
 * dist/ and its node_modules) once into a per-user cache directory named by their hash, then
 * imports Born's entry from there. Born itself then runs exactly as installed: ES modules,
 * worker threads started from worker files, native optional dependencies, the ONNX schema files.
 *
 * Unpack directory: $BORN_SEA_CACHE, else $XDG_CACHE_HOME/born-sea (~/.cache/born-sea), else
 * <tmpdir>/born-sea-<uid>. A directory already holding every file at its size is used as it is
 * (it may be read-only); otherwise the files are written to a fresh sibling and renamed into
 * place, so concurrent starts never see half a tree.
 */
import type { Manifest } from './manifest.js';

interface Assets { manifest: string; files: string }

/** Kept free of imports and outer names: its source text is what runs. */
export function seaMain(req: NodeRequire, assets: Assets): void {
  const fs = req('node:fs') as typeof import('node:fs');
  const path = req('node:path') as typeof import('node:path');
  const os = req('node:os') as typeof import('node:os');
  const url = req('node:url') as typeof import('node:url');
  const zlib = req('node:zlib') as typeof import('node:zlib');
  const sea = req('node:sea') as typeof import('node:sea');

  const manifest = JSON.parse(sea.getAsset(assets.manifest, 'utf8')) as Manifest;
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;

  const complete = (dir: string): boolean =>
    manifest.files.every(([name, size]) => fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size === size) &&
    manifest.models.every((m) => fs.statSync(path.join(dir, m.file), { throwIfNoEntry: false })?.size === m.size);

  /** A directory of ours that nobody else can write to (the tmpdir fallback is shared). */
  const ownedBase = (base: string): boolean => {
    try {
      fs.mkdirSync(base, { recursive: true, mode: 0o700 });
      const st = fs.lstatSync(base);
      if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) return false;
      fs.accessSync(base, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };

  const unpackInto = (dir: string): void => {
    const data = zlib.gunzipSync(Buffer.from(sea.getRawAsset(assets.files) as ArrayBuffer));
    let offset = 0;
    const made = new Set<string>();
    for (const [name, size, executable] of manifest.files) {
      const file = path.join(dir, name);
      const parent = path.dirname(file);
      if (!made.has(parent)) { fs.mkdirSync(parent, { recursive: true }); made.add(parent); }
      fs.writeFileSync(file, data.subarray(offset, offset + size), { mode: executable ? 0o755 : 0o644 });
      offset += size;
    }
    for (const m of manifest.models) {
      const file = path.join(dir, m.file);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, new Uint8Array(sea.getRawAsset(m.asset) as ArrayBuffer));
    }
  };

  const unpacked = (): string => {
    const explicit = process.env.BORN_SEA_CACHE;
    const xdg = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : '');
    const bases = explicit ? [explicit] : [...(xdg ? [path.join(xdg, 'born-sea')] : []), path.join(os.tmpdir(), `born-sea-${uid}`)];
    const problems: string[] = [];
    for (const base of bases) {
      const dir = path.join(base, manifest.hash);
      if (complete(dir)) return dir;
      if (!ownedBase(base)) { problems.push(`${base}: not a writable directory of this user`); continue; }
      const fresh = fs.mkdtempSync(path.join(base, `.unpack-${manifest.hash.slice(0, 12)}-`));
      try {
        unpackInto(fresh);
        // An incomplete tree left by an earlier crash or a cleaner is moved aside first.
        if (fs.existsSync(dir)) fs.renameSync(dir, `${fresh}.old`);
        try { fs.renameSync(fresh, dir); } catch (e) { if (!complete(dir)) throw e; } // another start won the race
        return dir;
      } catch (e) {
        problems.push(`${base}: ${(e as Error).message}`);
      } finally {
        fs.rmSync(fresh, { recursive: true, force: true });
        fs.rmSync(`${fresh}.old`, { recursive: true, force: true });
      }
    }
    throw new Error(`cannot unpack the embedded files (set BORN_SEA_CACHE to a writable directory): ${problems.join('; ')}`);
  };

  let dir: string;
  try {
    dir = unpacked();
  } catch (e) {
    console.error(`born: ${(e as Error).message}`);
    process.exit(1);
  }
  const models = manifest.models.map((m) => ({ name: m.name, path: path.join(dir, m.file) }));
  // process.argv is [the executable, how it was called, ...arguments].
  import(url.pathToFileURL(path.join(dir, manifest.entry)).href)
    .then((entry: { runEmbedded(opts: { models: typeof models; args: string[] }): Promise<void> }) =>
      entry.runEmbedded({ models, args: process.argv.slice(2) }))
    .catch((e: unknown) => {
      console.error(`born: ${e instanceof Error ? e.stack : String(e)}`);
      process.exit(1);
    });
}

/** The executable's main script: seaMain's compiled source, called with the asset names. */
export function seaMainScript(assets: Assets): string {
  return `'use strict';\n(${seaMain.toString()})(require, ${JSON.stringify(assets)});\n`;
}
