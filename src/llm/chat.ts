/**
 * Chat on a model whose files carry a chat template: the conversation is rendered by the template
 * (chat-template.ts) and encoded with control tokens matched as such, as transformers'
 * apply_chat_template(tokenize=True) does; the reply is a plain generation from that prompt,
 * ending at the model's EOS / end-of-turn ids.
 */
import { applyChatTemplate, type ChatMessage } from './chat-template.js';
import type { GenerateOptions } from './generate/options.js';
import type { Llm } from './load.js';

export interface ChatOptions extends GenerateOptions {
  /** A Jinja chat template to use instead of the model's own. */
  readonly template?: string;
}

/** The prompt ids of `messages`, ending with the header of the assistant's turn. */
export async function chatPromptIds(llm: Llm, messages: readonly ChatMessage[], template?: string): Promise<number[]> {
  const tok = llm.tokenizer;
  if (!tok) throw new TypeError('chat: this model has no tokenizer (a chat needs text in and out)');
  const source = template ?? llm.meta.chatTemplate;
  if (!source) throw new TypeError(`chat: ${llm.meta.name ?? 'this model'} carries no chat template; pass { template } or use llm.generate with a plain prompt`);
  const token = (id: number | null | undefined): string => (id === null || id === undefined ? '' : tok.idToToken(id));
  const text = await applyChatTemplate(source, messages, {
    addGenerationPrompt: true, bosToken: token(llm.meta.bosId ?? tok.bosId), eosToken: token(llm.meta.eosIds?.[0] ?? tok.eosId),
  });
  // The template writes BOS itself where the model wants one.
  return tok.encode(text, { bos: false, specials: true });
}

/** Streams the assistant's reply to `messages` (text pieces). */
export async function* chat(llm: Llm, messages: readonly ChatMessage[], opts: ChatOptions = {}): AsyncGenerator<string> {
  const { template, ...gen } = opts;
  const ids = await chatPromptIds(llm, messages, template);
  yield* llm.generate(ids, { ...gen, tokens: false });
}
