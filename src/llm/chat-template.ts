/**
 * Chat templates: a conversation rendered into a model's prompt text by the Jinja template its
 * files carry (GGUF `tokenizer.chat_template`, tokenizer_config.json's `chat_template`), as
 * transformers' apply_chat_template renders it (trim_blocks, lstrip_blocks, `raise_exception`).
 * The Jinja engine is @huggingface/jinja, loaded on first use so that importing Born stays cheap.
 */

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  readonly content: string;
}

export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's turn (default true: the prompt for a reply). */
  readonly addGenerationPrompt?: boolean;
  readonly bosToken?: string;
  readonly eosToken?: string;
  /** Further variables the template may read (tools, date_string, …). */
  readonly variables?: Readonly<Record<string, unknown>>;
}

/** A template that does not parse, or refuses the conversation (`raise_exception(…)`: it does not fit the model's format). */
export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

type Compiled = { render(items: Record<string, unknown>): string };
let templateClass: Promise<new (source: string) => Compiled> | undefined;
const compiled = new Map<string, Compiled>();
const MAX_COMPILED = 16;

async function compile(source: string): Promise<Compiled> {
  const hit = compiled.get(source);
  if (hit) return hit;
  templateClass ??= import('@huggingface/jinja').then((m) => m.Template);
  const Template = await templateClass;
  let t: Compiled;
  try {
    t = new Template(source);
  } catch (e) {
    throw new ChatTemplateError(`applyChatTemplate: the chat template does not parse: ${(e as Error).message}`);
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(source, t);
  return t;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages) || messages.length === 0) throw new TypeError('applyChatTemplate: expected a non-empty array of { role, content } messages');
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new TypeError(`applyChatTemplate: message ${i} should be { role: string, content: string }, got ${JSON.stringify(m)}`);
    }
  });
}

/** Renders `messages` with the Jinja `template` into the prompt text. */
export async function applyChatTemplate(template: string, messages: readonly ChatMessage[], opts: ChatTemplateOptions = {}): Promise<string> {
  if (typeof template !== 'string' || template.length === 0) throw new TypeError('applyChatTemplate: the model has no chat template (use plain generate, or pass a template)');
  checkMessages(messages);
  const t = await compile(template);
  try {
    return t.render({
      ...opts.variables,
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      bos_token: opts.bosToken ?? '',
      eos_token: opts.eosToken ?? '',
    });
  } catch (e) {
    // The engine's raise_exception throws a plain Error with the template's message.
    throw new ChatTemplateError(`applyChatTemplate: the template refused the conversation or failed: ${(e as Error).message}`);
  }
}
