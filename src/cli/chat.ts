/**
 * `born chat`: a conversation with a model that carries a chat template. Each line read from
 * stdin is a user turn (or one `--message` answered alone); the reply streams to stdout, and the
 * conversation so far is rendered by the template for each turn. A terminal gets a `> ` prompt
 * on stderr; `/exit` or the end of input ends the chat. A conversation that outgrows the model's
 * context loses its oldest turns (the system message stays), with a note on stderr.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { chatPromptIds } from '../llm/chat.js';
import type { ChatMessage } from '../llm/chat-template.js';
import { load, type Llm } from '../llm/load.js';
import type { GenerateOptions } from '../llm/generate/options.js';
import { checkReadable } from './files.js';
import { parse, UsageError } from './flags.js';
import { SAMPLING_FLAGS, samplingOptions } from './generate.js';
import { deviceFlag } from './train.js';

const FLAGS = {
  model: { type: 'string' },
  system: { type: 'string' },
  message: { type: 'string' },
  template: { type: 'string' },
  ...SAMPLING_FLAGS,
} as const;

/**
 * Drops the oldest turns after the system message until the rendered conversation leaves room
 * for a reply in the model's context; the latest user message always stays.
 */
async function fitContext(llm: Llm, messages: ChatMessage[], template: string | undefined): Promise<number[]> {
  const first = messages[0]?.role === 'system' ? 1 : 0;
  for (;;) {
    const ids = await chatPromptIds(llm, messages, template);
    if (ids.length < llm.config.maxSeqLen) return ids;
    if (messages.length - first <= 1) throw new UsageError(`born chat: the message does not fit the model's context of ${llm.config.maxSeqLen} tokens`);
    const dropped = messages.splice(first, messages[first]!.role === 'user' && messages.length - first > 2 ? 2 : 1);
    process.stderr.write(`(the conversation outgrew the context of ${llm.config.maxSeqLen} tokens: dropped the oldest ${dropped.length === 2 ? 'exchange' : 'message'})\n`);
  }
}

async function reply(llm: Llm, messages: ChatMessage[], opts: GenerateOptions, template: string | undefined): Promise<void> {
  // The prompt that fits is the one llm.chat would render: generate from it, rendered once.
  const ids = await fitContext(llm, messages, template);
  let text = '';
  for await (const piece of llm.generate(ids, { ...opts, tokens: false })) {
    text += piece;
    process.stdout.write(piece);
  }
  await new Promise<void>((resolve) => process.stdout.write('\n', () => resolve()));
  messages.push({ role: 'assistant', content: text });
}

export async function chatCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('chat', argv, FLAGS);
  if (v.model === undefined) throw new UsageError('born chat: --model FILE is required');
  const opts = samplingOptions('chat', v);
  await checkReadable('chat', 'model', v.model);
  if (v.template !== undefined) await checkReadable('chat', 'template', v.template);
  await deviceFlag('chat', v.device);
  const template = v.template === undefined ? undefined : await readFile(v.template, 'utf8');
  const llm = await load(v.model);
  if (!llm.tokenizer) throw new UsageError(`born chat: ${v.model} holds no tokenizer; use born generate --prompt-ids`);
  if (!template && !llm.meta.chatTemplate) throw new UsageError(`born chat: ${v.model} carries no chat template; give one with --template FILE (Jinja), or use born generate`);

  const messages: ChatMessage[] = v.system === undefined ? [] : [{ role: 'system', content: v.system }];
  if (v.message !== undefined) {
    messages.push({ role: 'user', content: v.message });
    await reply(llm, messages, opts, template);
    return 0;
  }
  const tty = process.stdin.isTTY === true;
  const lines = createInterface({ input: process.stdin, terminal: false });
  if (tty) process.stderr.write('> ');
  for await (const line of lines) {
    if (line.trim() === '/exit') break;
    if (line.trim() !== '') {
      messages.push({ role: 'user', content: line });
      await reply(llm, messages, opts, template);
    }
    if (tty) process.stderr.write('> ');
  }
  lines.close();
  return 0;
}
