// A full collection, then the macrotask turns in which FinalizationRegistry callbacks run and free
// dropped tensors' buffers. The test processes run with --expose-gc (vitest.config.ts).
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 0));
  }
}
