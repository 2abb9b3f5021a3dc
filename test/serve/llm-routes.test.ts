// POST /v1/completions and /v1/chat/completions without streaming, over loopback HTTP on the
// tiny GGUF models: greedy answers equal llm.generate's text for the same prompt (or the chat
// template's prompt ids), usage counts, finish reasons ('length' at max_tokens, 'stop' at a stop
// string), and bad requests answered 4xx in OpenAI's error shape.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { LLAMA, QWEN, post, reference, serve } from './llm-fixtures.js';

let qwen: born.Llm, llama: born.Llm, server: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  [qwen, llama] = await Promise.all([born.llm.load(QWEN), born.llm.load(LLAMA)]);
  server = await serve({ qwen, llama });
});
afterAll(async () => { await server?.close(); });

const json = (r: Response): Promise<any> => r.json();

const GREEDY = { temperature: 0, maxTokens: 12, eosIds: [] } as const;

describe('POST /v1/completions', () => {
  test('a greedy text prompt: llm.generate\'s text, usage, finish_reason length at max_tokens', async () => {
    const res = await post(server.url, '/v1/completions', { model: 'qwen', prompt: 'hello world', max_tokens: 12, temperature: 0 });
    expect(res.status).toBe(200);
    const j = await json(res);
    const ref = await reference(qwen, 'hello world', { ...GREEDY, eosIds: undefined });
    expect(j).toMatchObject({ object: 'text_completion', model: 'qwen', choices: [{ index: 0, text: ref.text, finish_reason: ref.ids.length === 12 ? 'length' : 'stop' }] });
    expect(j.id).toMatch(/^cmpl-/);
    const promptTokens = qwen.tokenizer!.encode('hello world').length;
    expect(j.usage).toEqual({ prompt_tokens: promptTokens, completion_tokens: ref.ids.length, total_tokens: promptTokens + ref.ids.length });
  });

  test('token-id prompts; a stop string cuts the text before it with finish_reason stop', async () => {
    const ids = llama.tokenizer!.encode('once upon a time');
    const full = await reference(llama, ids, GREEDY);
    expect(full.text.length).toBeGreaterThan(6);
    const stop = full.text.slice(4, 6);
    const res = await post(server.url, '/v1/completions', { model: 'llama', prompt: ids, max_tokens: 12, temperature: 0, stop: [stop] });
    const j = await json(res);
    expect(j.choices[0].text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(j.choices[0].finish_reason).toBe('stop');
    // [[ids]] (a list holding one prompt) is the same request.
    const again = await (post(server.url, '/v1/completions', { model: 'llama', prompt: [ids], max_tokens: 12, temperature: 0, stop })).then(json);
    expect(again.choices[0].text).toBe(j.choices[0].text);
  });

  test('seeded sampling gives llm.generate\'s tokens for that seed', async () => {
    const opts = { temperature: 0.9, top_p: 0.9, top_k: 20, min_p: 0.01, seed: 1234, max_tokens: 10 };
    const j = await (post(server.url, '/v1/completions', { model: 'qwen', prompt: 'abc', ...opts })).then(json);
    const ref = await reference(qwen, 'abc', { temperature: 0.9, topP: 0.9, topK: 20, minP: 0.01, seed: 1234, maxTokens: 10 });
    expect(j.choices[0].text).toBe(ref.text);
    expect(j.usage.completion_tokens).toBe(ref.ids.length);
  });
});

describe('POST /v1/chat/completions', () => {
  test('messages go through the chat template: the reply is llm.generate on the template\'s ids', async () => {
    const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'hi ' }, { type: 'text', text: 'there' }] }];
    const res = await post(server.url, '/v1/chat/completions', { model: 'qwen', messages, max_completion_tokens: 8, temperature: 0 });
    expect(res.status).toBe(200);
    const j = await json(res);
    const ids = await born.llm.chatPromptIds(qwen, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi there' }]);
    const ref = await reference(qwen, ids, { temperature: 0, maxTokens: 8 });
    expect(j).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: ref.text } }] });
    expect(j.id).toMatch(/^chatcmpl-/);
    expect(j.usage).toMatchObject({ prompt_tokens: ids.length, completion_tokens: ref.ids.length });
  });
});

describe('bad requests: 4xx in OpenAI\'s error shape', () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    ['unknown model', '/v1/completions', { model: 'nope', prompt: 'x' }, 404, /does not exist/],
    ['no model with two served', '/v1/completions', { prompt: 'x' }, 400, /model is required/],
    ['temperature out of range', '/v1/completions', { model: 'qwen', prompt: 'x', temperature: 5 }, 400, /temperature/],
    ['max_tokens not an integer', '/v1/completions', { model: 'qwen', prompt: 'x', max_tokens: 1.5 }, 400, /max_tokens/],
    ['n > 1', '/v1/completions', { model: 'qwen', prompt: 'x', n: 2 }, 400, /\bn\b/],
    ['no prompt', '/v1/completions', { model: 'qwen' }, 400, /prompt/],
    ['a token id outside the vocabulary', '/v1/completions', { model: 'qwen', prompt: [1, 99999] }, 400, /vocabulary/],
    ['a prompt longer than the context', '/v1/completions', { model: 'qwen', prompt: Array(64).fill(5) }, 400, /context/],
    ['stop not strings', '/v1/completions', { model: 'qwen', prompt: 'x', stop: [1] }, 400, /stop/],
    ['no messages', '/v1/chat/completions', { model: 'qwen', messages: [] }, 400, /messages/],
    ['a model without a chat template', '/v1/chat/completions', { model: 'llama', messages: [{ role: 'user', content: 'x' }] }, 400, /chat template/],
  ];
  test.each(cases)('%s', async (_what, path, body, status, message) => {
    const res = await post(server.url, path, body);
    expect(res.status).toBe(status);
    const j = await json(res);
    expect(j.error.type).toBe('invalid_request_error');
    expect(j.error.message).toMatch(message);
  });

  test('a body that is not JSON', async () => {
    const res = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt": ' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/JSON/i);
    expect(server.metrics.requests.filter((r) => r.status >= 400).length).toBeGreaterThanOrEqual(cases.length);
  });
});
