/**
 * `born serve`: the inference server (src/serve) from the command line. Prints
 * `born serve: listening on http://HOST:PORT` on stdout once every model is loaded and warmed up
 * (scripts and tests wait for that line), drains on SIGTERM / SIGINT and exits 0, reloads the
 * model files on SIGHUP (or on change, with --watch).
 */
import { checkReadable } from './files.js';
import { intFlag, parse, UsageError } from './flags.js';
import { deviceFlag } from './train.js';

/** "10mb", "512kb", "1gb" or a number of bytes. */
export function byteSize(command: string, flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(s.trim());
  const n = m ? Number(m[1]) * 1024 ** ['b', 'kb', 'mb', 'gb'].indexOf((m[2] ?? 'b').toLowerCase()) : NaN;
  if (!Number.isSafeInteger(Math.floor(n)) || n < 1) throw new UsageError(`born ${command}: --${flag} must be a size like 10mb, 512kb or a number of bytes, got '${s}'`);
  return Math.floor(n);
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse('serve', argv, {
    model: { type: 'string', multiple: true, default: [] },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    'max-batch': { type: 'string', default: '32' },
    'max-wait-ms': { type: 'string', default: '1' },
    batches: { type: 'string', default: '2' },
    queue: { type: 'string', default: '256' },
    'timeout-ms': { type: 'string', default: '30000' },
    'body-limit': { type: 'string', default: '10mb' },
    'drain-delay-ms': { type: 'string', default: '0' },
    watch: { type: 'boolean', default: false },
    device: { type: 'string', default: 'cpu' },
  });
  const { parseModelFlag, serve } = await import('../serve/index.js');
  if (values.model.length === 0) throw new UsageError('born serve: --model FILE is required (repeat it to serve several models; --model name=FILE names one)');
  const models = values.model.map(parseModelFlag);
  for (const m of models) await checkReadable('serve', 'model', m.path).catch(async (e: unknown) => {
    // A Hugging Face folder is a directory, not a file.
    const { stat } = await import('node:fs/promises');
    if (!(await stat(m.path).catch(() => null))?.isDirectory()) throw e;
  });
  const port = intFlag('serve', 'port', values.port, 0);
  if (port > 65535) throw new UsageError(`born serve: --port must be at most 65535, got ${port}`);
  const options = {
    models, port, host: values.host,
    maxBatch: intFlag('serve', 'max-batch', values['max-batch'], 1),
    maxWaitMs: intFlag('serve', 'max-wait-ms', values['max-wait-ms'], 0),
    batchesInFlight: intFlag('serve', 'batches', values.batches, 1),
    queue: intFlag('serve', 'queue', values.queue, 1),
    timeoutMs: intFlag('serve', 'timeout-ms', values['timeout-ms'], 1),
    bodyLimit: byteSize('serve', 'body-limit', values['body-limit']),
    drainDelayMs: intFlag('serve', 'drain-delay-ms', values['drain-delay-ms'], 0),
    watch: values.watch, signals: true,
  };
  await deviceFlag('serve', values.device);
  const server = await serve(options);
  console.log(`born serve: listening on ${server.url}`);
  await server.closed;
  return 0;
}
