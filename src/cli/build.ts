/** `born build`: one executable file that serves the given models (`./app --port 8080`). */
import path from 'node:path';
import { parse, UsageError } from './flags.js';
import { checkReadable, checkWritableDir } from './files.js';

/** `--model [NAME=]FILE`: without NAME=, the model is named after the file (its base name without the extension). */
export function modelSpec(spec: string): { name: string; file: string } {
  const at = spec.indexOf('=');
  const file = at < 0 ? spec : spec.slice(at + 1);
  const name = at < 0 ? path.basename(file, path.extname(file)) : spec.slice(0, at);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError(`born build: --model ${spec}: the model name '${name}' must be letters, digits, '.', '_' or '-'`);
  }
  return { name, file };
}

export async function buildCommand(argv: string[]): Promise<number> {
  const { values } = parse('build', argv, {
    model: { type: 'string', multiple: true },
    out: { type: 'string', default: 'app' },
    node: { type: 'string' },
  });
  const models = (values.model ?? []).map(modelSpec);
  if (models.length === 0) throw new UsageError('born build: --model FILE is required');
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new UsageError(`born build: two models are named '${m.name}' (use --model NAME=FILE)`);
    names.add(m.name);
    await checkReadable('build', 'model', m.file);
  }
  await checkWritableDir('build', 'out', values.out);
  if (values.node !== undefined) await checkReadable('build', 'node', values.node);
  const { buildExecutable } = await import('../build/build.js');
  const r = await buildExecutable({ models, out: values.out, ...(values.node === undefined ? {} : { node: values.node }) });
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  console.log(`born build: wrote ${r.out} (${mib(r.bytes)} MiB: ${r.files} files, ${mib(r.archiveBytes)} MiB gzipped, and ${models.length} model${models.length > 1 ? 's' : ''}) in ${(r.ms / 1000).toFixed(1)} s`);
  console.log(`run it: ./${path.basename(r.out)} --port 8080   (the flags of born serve)`);
  return 0;
}
