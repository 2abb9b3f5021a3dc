/**
 * A stand-in for `born serve` (on its own branch) with its command-line contract for the flags
 * the executable test uses: --model name=FILE (born train's safetensors), --port, --host, the
 * listening line, POST /v1/models/NAME:predict with JSON, SIGTERM closing the server.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { loadWithMetadata } from '../io/safetensors.js';
import { isModelName, MODELS } from '../cli/models.js';
import { tensor, type NestedArray } from '../tensor/creation.js';
import { noGrad } from '../autodiff/grad.js';
import { engine } from '../scheduler/engine.js';
import type { Module } from '../nn/module.js';

export async function placeholderServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string', multiple: true }, port: { type: 'string' }, host: { type: 'string' } }, strict: false });
  const models = new Map<string, Module>();
  for (const spec of (values.model ?? []) as string[]) {
    const at = spec.indexOf('=');
    const { tensors, metadata } = await loadWithMetadata(spec.slice(at + 1));
    if (!metadata.model || !isModelName(metadata.model)) throw new Error(`${spec}: no known model in its metadata`);
    const model = MODELS[metadata.model]();
    model.loadStateDict(tensors);
    model.eval();
    models.set(spec.slice(0, at), model);
  }
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  app.post<{ Params: { '*': string }; Body: { inputs: NestedArray } }>('/v1/models/*', async (req, reply) => {
    const m = /^(.+):predict$/.exec(req.params['*']);
    const model = m ? models.get(m[1]!) : undefined;
    if (!model) return reply.code(404).send({ error: 'no such model' });
    const out = noGrad(() => model.forward(tensor(req.body.inputs)));
    return { outputs: { output: await out.tolist() } };
  });
  const address = await app.listen({ port: Number(values.port ?? 8080), host: String(values.host ?? '127.0.0.1') });
  console.log(`born serve: listening on ${address}`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await app.close();
  await engine.shutdown();
  return 0;
}
