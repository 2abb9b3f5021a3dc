// The backward pass is ordinary lazy graph, so the scheduler fuses it like
// the forward: relu(x @ W + b).sum() and its gradients wrt W and b should
// need no more kernels than PyTorch's backward does (relu mask times the
// upstream gradient, gW = x^T @ g, gb = sum of g over the batch).
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import { kernelsRun } from './reference/golden.js';


describe('fusion of the backward pass', () => {
  test('grad of sum(relu(x @ W + b)) wrt W and b: at most 3 kernels, correct values', async () => {
    const x = born.randn([64, 32], { seed: 11 });
    const W = born.randn([32, 16], { seed: 12 });
    const b = born.randn([16], { seed: 13 });
    await born.realize(x, W, b);
    const loss = x.matmul(W).add(b).relu().sum();
    const [gW, gb] = born.grad(loss, [W, b]);
    const plan = born.explain(gW!, gb!);
    expect(plan.kernels.length, `plan for [gW, gb]:\n${plan}`).toBeLessThanOrEqual(3);
    const ran = await kernelsRun(() => born.realize(gW!, gb!));
    expect(ran.length, `kernels run: ${ran.map((k) => `${k.name} [${k.ops.join(', ')}]`).join('; ')}`).toBeLessThanOrEqual(3);

    // Values: mask[i][j] = (x @ W + b)[i][j] > 0; gW = x^T @ mask; gb = column sums of mask.
    const [xd, wd, bd, gwd, gbd] = [await x.data(), await W.data(), await b.data(), await gW!.data(), await gb!.data()];
    const mask = new Float64Array(64 * 16);
    for (let i = 0; i < 64; i++) {
      for (let j = 0; j < 16; j++) {
        let s = bd[j]!;
        for (let k = 0; k < 32; k++) s += xd[i * 32 + k]! * wd[k * 16 + j]!;
        mask[i * 16 + j] = s > 0 ? 1 : 0;
      }
    }
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let i = 0; i < 64; i++) s += mask[i * 16 + j]!;
      expect(gbd[j]).toBe(s);
    }
    for (let k = 0; k < 32; k++) {
      for (let j = 0; j < 16; j++) {
        let s = 0;
        for (let i = 0; i < 64; i++) s += xd[i * 32 + k]! * mask[i * 16 + j]!;
        expect(gwd[k * 16 + j]).toBeCloseTo(s, 3);
      }
    }
  });

  test('an elementwise chain\'s gradient is one kernel', async () => {
    const x = born.randn([64, 64], { seed: 14 });
    await born.realize(x);
    const [g] = born.grad(x.mul(1.5).add(0.5).tanh().mul(x).sum(), [x]);
    const plan = born.explain(g!);
    expect(plan.kernels.length, String(plan)).toBe(1);
  });
});
