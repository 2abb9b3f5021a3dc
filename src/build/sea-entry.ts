/**
 * What a `born build` executable runs once its files are unpacked: `born serve` with the
 * embedded models and the arguments the executable was called with (`./app --port 8080`), so
 * the executable takes every flag of born serve and behaves as it does (the listening line on
 * stdout, SIGTERM drain, exit status).
 */
export interface EmbeddedRun {
  /** The unpacked models: served under `name`, read from `path`. */
  models: Array<{ name: string; path: string }>;
  /** The executable's own arguments. */
  args: string[];
}

export async function runEmbedded({ models, args }: EmbeddedRun): Promise<void> {
  const modelArgs = models.flatMap((m) => ['--model', `${m.name}=${m.path}`]);
  const main = new URL('../cli/main.js', import.meta.url);
  // born's CLI reads its arguments from process.argv when imported.
  process.argv = [process.argv[0]!, main.pathname, 'serve', ...modelArgs, ...args];
  await import(main.href);
}
