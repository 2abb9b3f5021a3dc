// Shared by the test/serve/llm-*.test.ts files: the committed tiny GGUF models, a server with the
// LLM routes alone on loopback, and the references (llm.generate's text for a prompt).
import { fileURLToPath } from 'node:url';
import * as born from '../../src/index.js';
import { RecordingMetrics, startLlmServer, type LlmServer } from '../../src/serve/llm/bench.js';

const GGUF = fileURLToPath(new URL('../llm/fixtures/gguf/', import.meta.url));
/** Byte-level BPE with a ChatML template (EOS 306); context 64. */
export const QWEN = `${GGUF}tiny-qwen2-f16.gguf`;
/** SentencePiece, no chat template; context 64. */
export const LLAMA = `${GGUF}tiny-llama-f32.gguf`;

export async function serve(models: Record<string, born.Llm>, opts: { maxBatch?: number; queue?: number; timeoutMs?: number } = {}): Promise<LlmServer & { metrics: RecordingMetrics }> {
  const metrics = new RecordingMetrics();
  const server = await startLlmServer({ models, metrics, ...opts });
  return { ...server, metrics };
}

/** llm.generate's text and ids for one prompt (the reference the server's answers are held to). */
export async function reference(llm: born.Llm, prompt: string | number[], opts: born.llm.GenerateOptions): Promise<{ text: string; ids: number[] }> {
  let text = '';
  for await (const piece of llm.generate(prompt as string, { ...opts, tokens: false })) text += piece;
  const ids: number[] = [];
  for await (const id of llm.generate(prompt as number[], { ...opts, tokens: true })) ids.push(id);
  return { text, ids };
}

export async function post(url: string, path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
}
