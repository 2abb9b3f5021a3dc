// born.onnx.save of the fused attention node (src/onnx/export/attention.ts): the CPU is made to
// take the fused kernel at these small sizes, each forward is checked to hold an attention node,
// and the file runs in onnxruntime-node and born.onnx.load with Born's outputs (export-harness.ts:
// 1e-4 + 1e-4·|y|): causal, bool and additive masks, grouped-query heads, a kvLength, a LLaMA block.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as born from '../../src/index.js';
import type { LazyNode } from '../../src/graph/node.js';
import { fusedAttentionPolicy } from '../../src/nn/sdpa-fused.js';
import { LlamaDecoderLayer } from '../../src/nn/llama.js';
import { checkExport, onnxCheck } from './export-harness.js';

const F = born.nn.functional;
const cpuMinScores = fusedAttentionPolicy.cpuMinScores;
beforeAll(() => { fusedAttentionPolicy.cpuMinScores = 0; born.manualSeed(3); });
afterAll(() => { fusedAttentionPolicy.cpuMinScores = cpuMinScores; });

/** Whether computing `t` goes through a fused attention node. */
function hasAttention(t: born.Tensor): boolean {
  const seen = new Set<LazyNode>();
  const stack = [t.node];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.arg.kind === 'attention') return true;
    stack.push(...n.srcs);
  }
  return false;
}

type Sdpa = (q: born.Tensor, k: born.Tensor, v: born.Tensor, ...rest: born.Tensor[]) => born.Tensor;

async function check(f: Sdpa, inputs: born.Tensor[]): Promise<Uint8Array> {
  expect(hasAttention(born.noGrad(() => f(...(inputs as [born.Tensor, born.Tensor, born.Tensor])))), 'the forward takes the fused node').toBe(true);
  return checkExport(f, inputs);
}

describe('fused attention exported as MatMul and Softmax', () => {
  const q = (): born.Tensor => born.randn([2, 4, 5, 8]);
  const kv = (s: number, h = 4): born.Tensor => born.randn([2, h, s, 8]);

  test('plain, and causal with L < S (top-left aligned, as PyTorch)', async () => {
    await check((a, b, c) => F.scaledDotProductAttention(a, b, c), [q(), kv(7), kv(7)]);
    const bytes = await check((a, b, c) => F.scaledDotProductAttention(a, b, c, { isCausal: true }), [q(), kv(7), kv(7)]);
    onnxCheck(bytes);
  });

  test('a bool mask (true: attend) and an additive float mask, both broadcast', async () => {
    const keep = born.rand([5, 7]).gt(0.3);
    await check((a, b, c, m) => F.scaledDotProductAttention(a, b, c, { attnMask: m!.to('bool') }), [q(), kv(7), kv(7), keep.to('float32')]);
    await check((a, b, c, m) => F.scaledDotProductAttention(a, b, c, { attnMask: m }), [q(), kv(7), kv(7), born.randn([1, 4, 5, 7])]);
  });

  test('grouped-query heads (4 query heads on 2 kv heads) with a scale', async () => {
    await check((a, b, c) => F.scaledDotProductAttention(a, b, c, { enableGqa: true, scale: 0.3, isCausal: true }), [q(), kv(5, 2), kv(5, 2)]);
  });

  test('a kvLength (the traced value, baked in): only the first 4 of 7 keys, causal at the last positions', async () => {
    await check((a, b, c) => F.scaledDotProductAttention(a, b, c, { kvLength: 4, isCausal: true }), [born.randn([2, 4, 2, 8]), kv(7), kv(7)]);
  });

  test('a LLaMA decoder layer (RoPE, grouped-query attention, SwiGLU, RMSNorm)', async () => {
    const layer = new LlamaDecoderLayer(16, 4, 24, { numKvHeads: 2, maxPositions: 16 });
    const x = born.randn([1, 6, 16]);
    expect(hasAttention(born.noGrad(() => layer.forward(x)))).toBe(true);
    await checkExport(layer, [x]);
  });
});
