// A library does not change V8 flags at import: Born exposes no gc(), and it turns on relaxed
// SIMD (Node 20) only when the first matmul kernel wants fused multiply-add, never with
// BORN_NO_V8_FLAGS=1. Each case runs in a fresh process on the built package (dist/).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

// A module whose one function is f32x4.relaxed_madd of three zero vectors: valid only with relaxed SIMD.
const probe = `(() => {
  const body = [0, ...[0, 1, 2].flatMap(() => [0xfd, 12, ...new Array(16).fill(0)]), 0xfd, 0x85, 0x02, 0x0b];
  const m = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, body.length + 2, 1, body.length, ...body]);
  return WebAssembly.validate(m);
})()`;

const script = `
import vm from 'node:vm';
const relaxed = () => ${probe};
const out = { before: relaxed() };
const born = await import(${JSON.stringify(dist)});
out.afterImport = relaxed();
out.gc = vm.runInNewContext('typeof gc');
const a = born.randn([64, 96], { seed: 1 }), b = born.randn([96, 80], { seed: 2 });
const c = await a.matmul(b).data();
const A = await a.data(), B = await b.data();
let err = 0;
for (let i = 0; i < 64; i++) for (let j = 0; j < 80; j++) {
  let s = 0;
  for (let k = 0; k < 96; k++) s += A[i * 96 + k] * B[k * 80 + j];
  err = Math.max(err, Math.abs(s - c[i * 80 + j]));
}
out.afterMatmul = relaxed();
out.err = err;
await born.engine.shutdown();
console.log(JSON.stringify(out));
`;

function run(env: Record<string, string> = {}): { before: boolean; afterImport: boolean; afterMatmul: boolean; gc: string; err: number } {
  const text = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });
  return JSON.parse(text.trim().split('\n').pop()!) as ReturnType<typeof run>;
}

describe('V8 flags', () => {
  test('importing Born sets no flag and exposes no gc(); the first matmul enables relaxed SIMD where needed', () => {
    const r = run();
    expect(r.gc).toBe('undefined');
    expect(r.afterImport).toBe(r.before);
    expect(r.afterMatmul).toBe(true); // Node 20 through the flag; later Node versions ship it
    expect(r.err).toBeLessThan(1e-3);
  });

  test('BORN_NO_V8_FLAGS=1 leaves the flags alone and matmul still computes', () => {
    const r = run({ BORN_NO_V8_FLAGS: '1' });
    expect(r.gc).toBe('undefined');
    expect(r.afterMatmul).toBe(r.before);
    expect(r.err).toBeLessThan(1e-3);
  });
});
