// LLM streaming load: N concurrent POST /v1/completions with stream: true (server-sent events),
// each reading its events to the end. Tokens are the events that carry text (one token per
// event, as OpenAI's streams send them); tokens/s is all streams' tokens over the wall time
// from the first request to the last [DONE].
import { performance } from 'node:perf_hooks';

export interface StreamRun { streams: number; tokens: number; seconds: number; tokensPerS: number; firstTokenMs: number[] }

/** One streamed completion: its token count and the ms to its first token. */
async function stream(url: string, body: object): Promise<{ tokens: number; firstMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  if (res.status !== 200 || !res.body) throw new Error(`/v1/completions: HTTP ${res.status} ${await res.text()}`);
  let buf = '', tokens = 0, firstMs = NaN, done = false;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buf += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') { done = true; continue; }
        const msg = JSON.parse(data) as { choices?: { text?: string }[] };
        if (msg.choices?.some((c) => c.text)) {
          if (tokens === 0) firstMs = performance.now() - t0;
          tokens++;
        }
      }
    }
  }
  if (!done) throw new Error('/v1/completions: the stream ended without [DONE]');
  return { tokens, firstMs };
}

export async function streamRun(url: string, model: string, streams: number, maxTokens: number): Promise<StreamRun> {
  const t0 = performance.now();
  const all = await Promise.all(Array.from({ length: streams }, (_, i) =>
    stream(url, { model, prompt: `Once upon a time, story ${i},`, max_tokens: maxTokens, temperature: 0 })));
  const seconds = (performance.now() - t0) / 1000;
  const tokens = all.reduce((s, r) => s + r.tokens, 0);
  return { streams, tokens, seconds, tokensPerS: tokens / seconds, firstTokenMs: all.map((r) => r.firstMs) };
}
