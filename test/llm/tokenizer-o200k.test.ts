// o200k_base (GPT-4o): Born's hand-written O200K_PATTERN with js-tiktoken's ranks, against js-tiktoken.
import { getEncoding } from 'js-tiktoken';
import { expect, test } from 'vitest';
import { corpus, tiktokenFile, tk } from './tokenizer-fixtures.js';

test('o200k_base: identical ids to js-tiktoken on a corpus sample, and round trip', () => {
  const f = tiktokenFile('o200k_base');
  const tok = tk.fromTiktoken({ ranks: f.text, pattern: 'o200k_base', specialTokens: f.specials });
  const ref = getEncoding('o200k_base');
  const bad: string[] = [];
  for (const line of corpus(150)) {
    if (/[\ufeff\u0085]/.test(line)) continue; // JavaScript's \s vs White_Space: see tokenizer-byte-level.test.ts
    const ids = tok.encode(line);
    if (JSON.stringify(ids) !== JSON.stringify(ref.encode(line, [], []))) bad.push(JSON.stringify(line));
    expect(tok.decode(ids)).toBe(line);
  }
  expect(bad).toEqual([]);
});
