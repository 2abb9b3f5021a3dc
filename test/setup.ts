/**
 * Runs before every test file (vitest.config.ts `setupFiles`): one seed for fast-check.
 *
 * A failing property prints `{ seed: …, path: … }`; `FC_SEED=<seed> npx vitest run <file>` replays
 * it. Under CI every run uses a fixed seed, so a red build is the same failure on a rerun; locally
 * each property draws a fresh seed (fast-check's default), so the space keeps being explored.
 */
import fc from 'fast-check';
import { onCI } from './reference/ci.js';

/** The seed of CI runs: any fixed number; change it to explore elsewhere. */
const CI_SEED = 20260701;

function chosenSeed(): number | undefined {
  const given = process.env.FC_SEED?.trim();
  if (given) {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < -(2 ** 31) || seed >= 2 ** 32) {
      throw new Error(`FC_SEED must be a 32-bit integer, as a failing property prints it ({ seed: -353889047, … }); got "${given}"`);
    }
    return seed;
  }
  return onCI ? CI_SEED : undefined;
}

const seed = chosenSeed();
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
