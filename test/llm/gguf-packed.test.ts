// Quantised GGUF projections stay packed: born.llm.load puts a QuantizedLinear (the file's blocks,
// byte for byte, on the device) where q8_0 / q4_0 / q4_K matrices sit, keeps q5_K / q6_K and the
// embedding as float32, and `{ dequantize: true }` gives the float model. The packed q4_K model
// equals it (both read the same dequantised values); q8_0 and q4_0 ones differ by the
// quantisation of their matmuls' inputs to q8_0 blocks, as llama.cpp's do (measured max |Δ|
// 4.5e-2 and 5.5e-2; the golden logits of each, to 1e-4, are in gguf-model.test.ts).
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import { Linear } from '../../src/nn/layers.js';
import { QuantizedLinear } from '../../src/quant/linear.js';
import { openGguf } from '../../src/llm/gguf/index.js';

const file = (name: string): string => fileURLToPath(new URL(`./fixtures/gguf/${name}`, import.meta.url));
const PROMPT = [1, 262, 286, 270, 264, 300];

describe('GGUF quantised projections', () => {
  test.each(['q8_0', 'q4_0', 'q4_K'])('%s: packed as the file holds them, logits close to the dequantised model\'s', async (type) => {
    const path = file(`tiny-llama-${type}.gguf`);
    const packed = await born.llm.load(path);
    const f = await openGguf(path);
    try {
      const wq = packed.model.layers[0]!.attention.wq;
      expect(wq).toBeInstanceOf(QuantizedLinear);
      const q = wq as QuantizedLinear;
      expect(q.weight.format).toBe(type);
      expect(Buffer.from(await q.weight.bytes.data() as Uint8Array).equals(Buffer.from(await f.readRaw('blk.0.attn_q.weight')))).toBe(true);
      // q4_K's file mixes in q5_K (attn_v) and q6_K (ffn_down), as llama.cpp's Q4_K_M: those are dequantised on load.
      expect(packed.model.layers[0]!.attention.wv).toBeInstanceOf(type === 'q4_K' ? Linear : QuantizedLinear);
      expect(packed.model.layers[0]!.feedForward.w2).toBeInstanceOf(type === 'q4_K' ? Linear : QuantizedLinear);
    } finally {
      await f.close();
    }
    const float = await born.llm.load(path, { dequantize: true });
    expect(float.model.layers[0]!.attention.wq).toBeInstanceOf(Linear);
    const [a, b] = await Promise.all([packed.logits(PROMPT).data(), float.logits(PROMPT).data()]);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(type === 'q4_K' ? 1e-4 : 0.1);
  });

  test('f32 and f16 files load float projections', async () => {
    for (const name of ['tiny-llama-f32.gguf', 'tiny-llama-f16.gguf']) {
      expect((await born.llm.load(file(name))).model.layers[1]!.feedForward.w1).toBeInstanceOf(Linear);
    }
  });
});
