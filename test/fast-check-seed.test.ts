// The property suites' seed comes from test/setup.ts: FC_SEED when given, a fixed one under CI.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { onCI } from './reference/ci.js';

test('fast-check runs with the seed the environment asks for', () => {
  const { seed } = fc.readConfigureGlobal();
  if (process.env.FC_SEED?.trim()) expect(seed).toBe(Number(process.env.FC_SEED));
  else if (onCI) expect(seed, 'a fixed seed under CI').toEqual(expect.any(Number));
  else expect(seed, 'a fresh seed per property').toBeUndefined();
});
