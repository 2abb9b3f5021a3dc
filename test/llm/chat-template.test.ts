import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyChatTemplate, ChatTemplateError, type ChatMessage } from '../../src/llm/chat-template.js';

// Rendered by Jinja2 as transformers renders chat templates: fixtures/chat/gen_chat.py.
interface Case { template: string; messages: ChatMessage[]; add_generation_prompt: boolean; expected?: string; error?: string }
const golden = JSON.parse(readFileSync(new URL('./fixtures/chat/chat.json', import.meta.url), 'utf8')) as {
  templates: Record<string, string>; bos_token: string; eos_token: string; cases: Case[];
};

describe('applyChatTemplate', () => {
  it.each(golden.cases.map((c, i) => [`${c.template} #${i}`, c] as const))('renders as Jinja2 does: %s', async (_name, c) => {
    const run = applyChatTemplate(golden.templates[c.template]!, c.messages, {
      addGenerationPrompt: c.add_generation_prompt, bosToken: golden.bos_token, eosToken: golden.eos_token,
    });
    if (c.error !== undefined) await expect(run).rejects.toThrow(new ChatTemplateError(`applyChatTemplate: the template refused the conversation or failed: ${c.error}`));
    else expect(await run).toBe(c.expected);
  });

  it('refuses what it cannot render, with the reason', async () => {
    await expect(applyChatTemplate('', [{ role: 'user', content: 'x' }])).rejects.toThrow(/no chat template/);
    await expect(applyChatTemplate(golden.templates.chatml!, [])).rejects.toThrow(/non-empty array/);
    await expect(applyChatTemplate(golden.templates.chatml!, [{ role: 'user' } as unknown as ChatMessage])).rejects.toThrow(/message 0 should be/);
    await expect(applyChatTemplate('{% for m in messages %}', [{ role: 'user', content: 'x' }])).rejects.toThrow(ChatTemplateError);
  });
});
