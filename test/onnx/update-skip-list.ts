/**
 * Regenerates test/onnx/skip-list.json: runs every backend model and records each failure with its
 * error as the reason. Run: `npx vite-node test/onnx/update-skip-list.ts`.
 */
import { writeFileSync } from 'node:fs';
import { listCases, reason, runCase } from './backend.js';

const skips: Record<string, string> = {};
const cases = listCases();
let passed = 0;
for (const c of cases) {
  try {
    await runCase(c);
    passed++;
  } catch (e) {
    skips[c.name] = reason(e);
  }
}
writeFileSync(new URL('./skip-list.json', import.meta.url), JSON.stringify(skips, null, 1) + '\n');
console.log(`onnx backend: ${passed}/${cases.length} pass (${(100 * passed / Math.max(1, cases.length)).toFixed(1)}%), ${Object.keys(skips).length} skipped`);
process.exit(0);
