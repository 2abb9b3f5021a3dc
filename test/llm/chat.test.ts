// llm.chat and `born chat` (node dist/cli/main.js: build first) on the tiny Qwen2 GGUF, whose
// metadata carries a ChatML template: the prompt ids against ChatML written out by hand, the
// replies against llm.generate on those ids, a piped two-turn session against the library
// carrying the history, and the errors.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as born from '../../src/index.js';
import type { ChatMessage, Llm } from '../../src/llm/index.js';

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const QWEN = fileURLToPath(new URL('./fixtures/gguf/tiny-qwen2-f16.gguf', import.meta.url));
const LLAMA = fileURLToPath(new URL('./fixtures/gguf/tiny-llama-f32.gguf', import.meta.url));
const GREEDY = { temperature: 0, maxTokens: 6 } as const;

interface Run { code: number; stdout: string; stderr: string }
const run = (args: string[], input?: string): Promise<Run> => new Promise((resolve) => {
  const child = execFile(process.execPath, [MAIN, 'chat', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
    resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
  });
  child.stdin!.end(input ?? '');
});

const collect = async (it: AsyncIterable<string>): Promise<string> => { let s = ''; for await (const p of it) s += p; return s; };

let llm: Llm;
beforeAll(async () => { llm = await born.llm.load(QWEN); });

describe('llm.chat', () => {
  it('renders the conversation with the model\'s template and matches its control tokens', async () => {
    const messages: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi there' }];
    const ids = await born.llm.chatPromptIds(llm, messages);
    const chatml = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n';
    expect(ids).toEqual(llm.tokenizer!.encode(chatml, { bos: false, specials: true }));
    const start = llm.tokenizer!.tokenToId('<|im_start|>')!;
    expect(ids[0]).toBe(start);
    expect(ids.filter((id) => id === start)).toHaveLength(3);
    expect(await collect(llm.chat(messages, GREEDY))).toBe(await collect(llm.generate(ids, GREEDY)));
  });

  it('refuses a model without a template, or a bad conversation, saying why', async () => {
    const plain = await born.llm.load(LLAMA);
    await expect(collect(plain.chat([{ role: 'user', content: 'x' }]))).rejects.toThrow(/carries no chat template/);
    await expect(collect(llm.chat([]))).rejects.toThrow(/non-empty array/);
  });
});

describe('born chat', () => {
  const flags = ['--model', QWEN, '--temperature', '0', '--max-tokens', String(GREEDY.maxTokens)];

  it('answers one --message as llm.chat does', async () => {
    const r = await run([...flags, '--message', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${await collect(llm.chat([{ role: 'user', content: 'hello' }], GREEDY))}\n`);
  });

  it('keeps the history across the lines of a piped session', async () => {
    const short = { temperature: 0, maxTokens: 2 } as const;
    const r = await run([...flags.slice(0, -2), '--max-tokens', '2'], 'hi\n\nok\n/exit\nnot read\n');
    expect(r.code, r.stderr).toBe(0);
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    const first = await collect(llm.chat(messages, short));
    messages.push({ role: 'assistant', content: first }, { role: 'user', content: 'ok' });
    expect((await born.llm.chatPromptIds(llm, messages)).length).toBeLessThan(llm.config.maxSeqLen);
    const second = await collect(llm.chat(messages, short));
    expect(r.stdout).toBe(`${first}\n${second}\n`);
    expect(r.stderr).toBe('');
  });

  it('drops the oldest exchange when the conversation outgrows the context', async () => {
    const r = await run(flags, 'hello\nhow are you today\n');
    expect(r.code, r.stderr).toBe(0);
    const first = await collect(llm.chat([{ role: 'user', content: 'hello' }], GREEDY));
    const long: ChatMessage[] = [{ role: 'user', content: 'hello' }, { role: 'assistant', content: first }, { role: 'user', content: 'how are you today' }];
    expect((await born.llm.chatPromptIds(llm, long)).length).toBeGreaterThanOrEqual(llm.config.maxSeqLen);
    const second = await collect(llm.chat([{ role: 'user', content: 'how are you today' }], GREEDY));
    expect(r.stdout).toBe(`${first}\n${second}\n`);
    expect(r.stderr).toMatch(/outgrew the context of 64 tokens: dropped the oldest exchange/);
  });

  it('exits 2 with the reason on bad use', async () => {
    const none = await run(['--message', 'x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--model FILE is required/);
    const plain = await run(['--model', LLAMA, '--message', 'x']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/carries no chat template/);
  });
});
