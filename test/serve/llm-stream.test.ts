// stream: true on the LLM routes over loopback HTTP: the server-sent events parsed block by block
// (OpenAI's chunks, the finish chunk, the usage chunk, data: [DONE]) carry llm.generate's text;
// concurrent streams run as one batch of the decode loop; a client that disconnects mid-stream
// leaves the batch while the others go on.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { sseData } from '../../src/serve/llm/bench.js';
import { QWEN, post, reference, serve } from './llm-fixtures.js';

let qwen: born.Llm, server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  qwen = await born.llm.load(QWEN);
  server = await serve({ qwen }, { maxBatch: 8 });
});
afterAll(async () => { await server?.close(); });

interface Chunk { object: string; choices: { text?: string; delta?: { role?: string; content?: string }; finish_reason: string | null }[]; usage?: { completion_tokens: number } | null }

/** The body's events, checked to be `data: …` blocks ending in [DONE]. */
async function events(res: Response): Promise<Chunk[]> {
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const blocks = (await res.text()).split('\n\n');
  expect(blocks.pop()).toBe('');
  expect(blocks.pop()).toBe('data: [DONE]');
  return blocks.map((b) => { expect(b.startsWith('data: ')).toBe(true); return JSON.parse(b.slice(6)) as Chunk; });
}

describe('streamed completions', () => {
  test('text chunks add up to llm.generate\'s text; the finish chunk, then usage, then [DONE]', async () => {
    const res = await post(server.url, '/v1/completions', { prompt: 'hello', max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks = await events(res);
    const ref = await reference(qwen, 'hello', { temperature: 0, maxTokens: 10 });
    const usage = chunks.pop()!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ completion_tokens: ref.ids.length });
    const last = chunks.pop()!;
    expect(last.choices[0]!.finish_reason).toBe(ref.ids.length === 10 ? 'length' : 'stop');
    expect(chunks.every((c) => c.object === 'text_completion' && c.choices[0]!.finish_reason === null && c.usage === null)).toBe(true);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.choices[0]!.text).join('') + last.choices[0]!.text).toBe(ref.text);
  });

  test('chat: the role chunk, content deltas equal to llm.generate on the template\'s ids, the finish chunk', async () => {
    const messages = [{ role: 'user', content: 'tell me' }];
    const chunks = await events(await post(server.url, '/v1/chat/completions', { messages, max_tokens: 6, temperature: 0, stream: true }));
    const ref = await reference(qwen, await born.llm.chatPromptIds(qwen, messages), { temperature: 0, maxTokens: 6 });
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && !('usage' in c))).toBe(true);
    const end = chunks.pop()!;
    expect(end.choices[0]).toMatchObject({ delta: {}, finish_reason: ref.ids.length === 6 ? 'length' : 'stop' });
    expect(chunks.slice(1).map((c) => c.choices[0]!.delta!.content).join('')).toBe(ref.text);
  });

  test('concurrent streams run as one batch, each with its own text', async () => {
    const prompts = ['a', 'the cat', 'one two three', 'xyz'];
    const before = server.metrics.batchSizes.length;
    const texts = await Promise.all(prompts.map(async (prompt) => {
      const chunks = await events(await post(server.url, '/v1/completions', { prompt, max_tokens: 8, temperature: 0, stream: true }));
      return chunks.map((c) => c.choices[0]!.text).join('');
    }));
    for (const [i, prompt] of prompts.entries()) expect(texts[i]).toBe((await reference(qwen, prompt, { temperature: 0, maxTokens: 8 })).text);
    expect(Math.max(...server.metrics.batchSizes.slice(before))).toBe(prompts.length);
  });

  test('a client that disconnects mid-stream leaves the batch; the other stream goes on', async () => {
    const before = server.metrics.batchSizes.length;
    const abort = new AbortController();
    const gone = await post(server.url, '/v1/completions', { prompt: 'abc', max_tokens: 50, temperature: 0, stream: true }, { signal: abort.signal });
    const other = post(server.url, '/v1/completions', { prompt: 'def', max_tokens: 40, temperature: 0, stream: true }).then(events);
    let seen = 0;
    try {
      // Disconnect once the other stream has joined the batch (a step of 2 rows), not before.
      for await (const d of sseData(gone.body!)) {
        if ((d as Chunk).choices?.[0]?.text) seen++;
        if (seen >= 3 && server.metrics.batchSizes.slice(before).includes(2)) abort.abort();
      }
    } catch (e) {
      expect((e as Error).name).toBe('AbortError');
    }
    const chunks = await other;
    expect(chunks.map((c) => c.choices[0]!.text).join('')).toBe((await reference(qwen, 'def', { temperature: 0, maxTokens: 40 })).text);
    const sizes = server.metrics.batchSizes.slice(before);
    // The two ran together until the disconnect; then the dropped row was gone (the loop ran the other alone).
    expect(sizes.filter((n) => n === 2).length).toBeGreaterThan(0);
    expect(sizes.at(-1)).toBe(1);
    expect(server.metrics.requests.some((r) => r.status === 499)).toBe(true);
  });
});
