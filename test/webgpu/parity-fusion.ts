/**
 * Representative graphs for the fusion assertion of issue 10: explain() must plan as many kernels
 * on WebGPU as on the CPU (the scheduler fuses the same way whatever the device), less the
 * kernels a device-gated rule saves on WebGPU, where an entry names them (third element: a
 * convolution's im2col, read by the matmul itself: scheduler/window-operand.ts).
 */
import * as born from '../../src/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { values } from './parity.js';

type Device = 'cpu' | 'webgpu';
const F = born.nn.functional;
const t = (d: Device, key: string, ...shape: number[]): Tensor =>
  born.tensor(values({ shape, dtype: 'float32', gen: 'real' }, key), { device: d }).reshape(shape);
const ix = (d: Device, n: number, ...shape: number[]): Tensor =>
  born.tensor(values({ shape, dtype: 'int32', gen: { index: n } }, `ix${n}`), { dtype: 'int32', device: d }).reshape(shape);

export const FUSION: readonly (readonly [string, (d: Device) => Tensor[], number?])[] = [
  ['elementwise chain', (d) => [t(d, 'a', 4, 6).mul(2).add(1).exp().relu()]],
  ['broadcast binary', (d) => [t(d, 'a', 4, 6).add(t(d, 'b', 6)).mul(t(d, 'c', 4, 1))]],
  ['two outputs of one chain', (d) => { const y = t(d, 'a', 4, 6).tanh(); return [y.mul(2), y.add(1)]; }],
  ['sum of a chain', (d) => [t(d, 'a', 4, 6).square().sum(1)]],
  ['reduction then elementwise', (d) => [t(d, 'a', 4, 6).sum(1, true).div(6).sub(t(d, 'a', 4, 6))]],
  ['softmax', (d) => [t(d, 'a', 4, 6).softmax(1)]],
  ['logSoftmax', (d) => [t(d, 'a', 4, 6).logSoftmax(1)]],
  ['layerNorm', (d) => [F.layerNorm(t(d, 'a', 4, 6), 6, t(d, 'w', 6), t(d, 'b', 6))]],
  ['var and mean', (d) => { const x = t(d, 'a', 4, 6); return [x.var(1), x.mean(1)]; }],
  ['argmax', (d) => [t(d, 'a', 4, 6).argmax(1)]],
  ['cumsum', (d) => [t(d, 'a', 4, 6).cumsum(1).mul(2)]],
  ['sort', (d) => [t(d, 'a', 4, 6).sort(1).values]],
  ['gather', (d) => [t(d, 'a', 4, 6).exp().gather(1, ix(d, 6, 4, 2))]],
  ['scatterAdd', (d) => [t(d, 'a', 4, 6).scatterAdd(1, ix(d, 6, 4, 3), t(d, 's', 4, 3))]],
  ['matmul + bias + relu', (d) => [t(d, 'a', 5, 7).matmul(t(d, 'b', 7, 3)).add(t(d, 'c', 3)).relu()]],
  ['transpose matmul', (d) => [t(d, 'a', 7, 5).T.matmul(t(d, 'b', 7, 3))]],
  ['conv2d + relu + maxpool', (d) => [F.maxPool2d(F.conv2d(t(d, 'x', 2, 3, 6, 6), t(d, 'w', 4, 3, 3, 3), t(d, 'b', 4)).relu(), 2)], 1],
  ['crossEntropy', (d) => [F.crossEntropy(t(d, 'a', 4, 5), ix(d, 5, 4))]],
  ['cat of chains', (d) => [born.cat([t(d, 'a', 2, 3).exp(), t(d, 'b', 4, 3).neg()])]],
  ['padded slice', (d) => [t(d, 'a', 6, 8).slice(1, 1, 7, 2).pad([1, 1]).mul(3)]],
  ['linear forward + backward', (d) => {
    const x = t(d, 'x', 4, 7), w = t(d, 'w', 3, 7), b = t(d, 'b', 3);
    const loss = F.linear(x, w, b).relu().square().mean();
    return born.grad(loss, [w, b]);
  }],
  ['MLP layer gradient through softmax', (d) => {
    const x = t(d, 'x', 4, 6), w = t(d, 'w', 6, 5);
    return born.grad(F.crossEntropy(x.matmul(w), ix(d, 5, 4)), [w]);
  }],
];
