/**
 * OpenAI's response shapes for the two routes: the whole answer as one JSON object, or server-sent
 * events of chunks (`data: {json}\n\n` each, ending with `data: [DONE]`), for text completions
 * (object 'text_completion') and chat completions ('chat.completion' / 'chat.completion.chunk').
 */
import { randomUUID } from 'node:crypto';
import type { FinishReason } from '../../llm/generate/continuous.js';

export type Route = 'completion' | 'chat';

export interface Usage { prompt_tokens: number; completion_tokens: number; total_tokens: number }

export const usage = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

/** The fields every object of one response shares. */
export class Envelope {
  readonly id: string;
  readonly created = Math.floor(Date.now() / 1000);

  constructor(readonly route: Route, readonly model: string) {
    this.id = `${route === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`;
  }

  /** The non-streamed answer. */
  whole(text: string, finish: FinishReason, u: Usage): object {
    const choice = this.route === 'chat'
      ? { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: finish }
      : { index: 0, text, logprobs: null, finish_reason: finish };
    return { id: this.id, object: this.route === 'chat' ? 'chat.completion' : 'text_completion', created: this.created, model: this.model, choices: [choice], usage: u };
  }

  /**
   * One streamed chunk: a piece of text, the opening of the assistant's turn (chat, `role`), or
   * the end (`finish`). With include_usage every chunk has `usage: null` but the last, as OpenAI's.
   */
  chunk(piece: { text?: string; role?: boolean; finish?: FinishReason }, includeUsage: boolean): string {
    const finish = piece.finish ?? null;
    const choice = this.route === 'chat'
      ? { index: 0, delta: piece.role ? { role: 'assistant', content: '' } : piece.text !== undefined ? { content: piece.text } : {}, logprobs: null, finish_reason: finish }
      : { index: 0, text: piece.text ?? '', logprobs: null, finish_reason: finish };
    return event({ ...this.head(), choices: [choice], ...(includeUsage ? { usage: null } : {}) });
  }

  /** The last chunk with include_usage: no choices, the usage. */
  usageChunk(u: Usage): string { return event({ ...this.head(), choices: [], usage: u }); }

  private head(): object {
    return { id: this.id, object: this.route === 'chat' ? 'chat.completion.chunk' : 'text_completion', created: this.created, model: this.model };
  }
}

/** One server-sent event carrying `data` as JSON. */
export const event = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

export const DONE = 'data: [DONE]\n\n';
