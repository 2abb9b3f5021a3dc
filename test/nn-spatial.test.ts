// Spatial modules and functions against PyTorch 1.13 golden values (test/fixtures/spatial.json,
// written by test/fixtures/gen_spatial.py): nn.functional conv1d, convTranspose1d/2d, 1-D and
// adaptive pools, groupNorm, instanceNorm, pad and interpolate in float64 (values and gradients
// of every input); the modules (Conv1d, ConvTranspose1d/2d, MaxPool1d, AvgPool1d, adaptive
// pools, Upsample, GroupNorm, InstanceNorm1d/2d) with PyTorch's state dict loaded, in float32:
// state-dict keys, forward, input and parameter gradients, running statistics. Also default
// initialisation bounds and errors that name the op and what would be valid.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { expectModuleCase } from './reference/module-case.js';
import { moduleCases, testFnCases, type ModuleCase } from './reference/spatial.js';

const { nn } = born;
const F = nn.functional;
type Module = born.nn.Module;

const TOL32 = { rtol: 1e-4, atol: 1e-5 };
const SPATIAL = new Set(['conv1d', 'convTranspose1d', 'convTranspose2d', 'maxPool1d', 'avgPool1d', 'adaptiveAvgPool1d',
  'adaptiveAvgPool2d', 'adaptiveMaxPool2d', 'groupNorm', 'instanceNorm', 'pad', 'interpolate']);

type O = Record<string, never>;
function run(fn: string, ins: Record<string, Tensor>, opts: O): Tensor {
  const { x, w, b, weight, bias } = ins as Record<string, Tensor>;
  const { kernel, size, pads, groups, ...rest } = opts;
  switch (fn) {
    case 'conv1d': return F.conv1d(x!, w!, b, opts);
    case 'convTranspose1d': return F.convTranspose1d(x!, w!, b, opts);
    case 'convTranspose2d': return F.convTranspose2d(x!, w!, b, opts);
    case 'maxPool1d': return F.maxPool1d(x!, kernel, rest);
    case 'avgPool1d': return F.avgPool1d(x!, kernel, rest);
    case 'adaptiveAvgPool1d': return F.adaptiveAvgPool1d(x!, size);
    case 'adaptiveAvgPool2d': return F.adaptiveAvgPool2d(x!, size);
    case 'adaptiveMaxPool2d': return F.adaptiveMaxPool2d(x!, size);
    // The positional form, as torch.nn.functional.group_norm(x, groups, weight, bias, eps).
    case 'groupNorm': return F.groupNorm(x!, groups, weight, bias, (rest as { eps?: number }).eps);
    case 'instanceNorm': return F.instanceNorm(x!, { weight, bias, ...rest });
    case 'pad': return F.pad(x!, pads, rest);
    case 'interpolate': return F.interpolate(x!, opts);
  }
  throw new Error(`no case for ${fn}`);
}

describe(`nn.functional spatial ops vs PyTorch ${'1.13'} (float64, values and gradients)`, () => {
  testFnCases(SPATIAL, 'function', run);
});

function build(c: ModuleCase): Module {
  const a = c.args as never[];
  const o = c.opts as never;
  switch (c.kind) {
    case 'Conv1d': return nn.Conv1d(a[0]!, a[1]!, a[2]!, o);
    case 'ConvTranspose1d': return nn.ConvTranspose1d(a[0]!, a[1]!, a[2]!, o);
    case 'ConvTranspose2d': return nn.ConvTranspose2d(a[0]!, a[1]!, a[2]!, o);
    case 'MaxPool1d': return nn.MaxPool1d(a[0]!, o);
    case 'AvgPool1d': return nn.AvgPool1d(a[0]!, o);
    case 'AdaptiveAvgPool1d': return nn.AdaptiveAvgPool1d(a[0]!);
    case 'AdaptiveAvgPool2d': return nn.AdaptiveAvgPool2d(a[0]!);
    case 'AdaptiveMaxPool2d': return nn.AdaptiveMaxPool2d(a[0]!);
    case 'Upsample': return nn.Upsample(o);
    case 'GroupNorm': return nn.GroupNorm(a[0]!, a[1]!, o);
    case 'InstanceNorm1d': return nn.InstanceNorm1d(a[0]!, o);
    case 'InstanceNorm2d': return nn.InstanceNorm2d(a[0]!, o);
  }
  throw new Error(`unknown module kind ${c.kind}`);
}

describe('spatial modules vs PyTorch (float32, loaded state dicts)', () => {
  for (const c of moduleCases) {
    test(c.name, async () => {
      await expectModuleCase(build(c), c, TOL32);
    });
  }
});

describe('default initialisation (PyTorch: U(±1/√fanIn), fanIn from the weight layout)', () => {
  const bound = async (t: Tensor): Promise<number> => Math.max(...[...(await t.data())].map(Math.abs));
  test.each([
    ['Conv1d(4, 6, 3, groups 2): fanIn = 2·3', () => nn.Conv1d(4, 6, 3, { groups: 2 }), [6, 2, 3], 1 / Math.sqrt(6)],
    ['ConvTranspose1d(4, 6, 3, groups 2): weight [4, 3, 3], fanIn = 3·3', () => nn.ConvTranspose1d(4, 6, 3, { groups: 2 }), [4, 3, 3], 1 / 3],
    ['ConvTranspose2d(3, 8, 2): weight [3, 8, 2, 2], fanIn = 8·4', () => nn.ConvTranspose2d(3, 8, 2), [3, 8, 2, 2], 1 / Math.sqrt(32)],
  ] as const)('%s', async (_name, make, shape, b) => {
    born.manualSeed(7);
    const m = make() as unknown as { weight: Tensor; bias: Tensor };
    expect([...m.weight.shape]).toEqual(shape);
    const w = await bound(m.weight);
    expect(w).toBeLessThanOrEqual(b);
    expect(w).toBeGreaterThan(0.7 * b);
    expect(await bound(m.bias)).toBeLessThanOrEqual(b);
  });
  test('GroupNorm and affine InstanceNorm start at weight 1, bias 0; InstanceNorm has no parameters by default', async () => {
    const g = nn.GroupNorm(2, 4);
    expect([...(await g.stateDict()['weight']!.data())]).toEqual([1, 1, 1, 1]);
    expect([...(await g.stateDict()['bias']!.data())]).toEqual([0, 0, 0, 0]);
    expect(Object.keys(nn.InstanceNorm2d(3).stateDict())).toEqual([]);
    expect(Object.keys(nn.GroupNorm(1, 2, { affine: false }).stateDict())).toEqual([]);
  });
});

describe('shapes and forms beyond the golden cases', () => {
  test('unbatched Conv1d and InstanceNorm1d inputs give unbatched outputs, as the batched ones', async () => {
    born.manualSeed(3);
    const conv = nn.Conv1d(2, 3, 3, { padding: 1 });
    const x = born.randn([2, 5], { seed: 4 });
    const a = await conv.forward(x).data(), b = await conv.forward(x.unsqueeze(0)).data();
    expect(conv.forward(x).shape).toEqual([3, 5]);
    [...a].forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 6));
    expect(nn.InstanceNorm1d(2).forward(x).shape).toEqual([2, 5]);
  });
  test('adaptive pooling with equal bins (global pooling) is one kernel', async () => {
    const x = born.randn([2, 3, 4, 6], { seed: 2 });
    await x.data();
    expect(born.explain(F.adaptiveAvgPool2d(x, 1)).kernels.length).toBe(1);
    expect(born.explain(F.adaptiveMaxPool2d(x, [2, 3])).kernels.length).toBe(1);
  });
  test('interpolate by an integer factor in nearest mode is a zero-copy view', () => {
    const x = born.randn([1, 1, 3, 3], { seed: 1 });
    const y = F.interpolate(x, { scaleFactor: 2 });
    expect(y.shape).toEqual([1, 1, 6, 6]);
    const kinds = new Set<string>();
    const walk = (n: Tensor['node']): void => { if (n !== x.node) { kinds.add(n.arg.kind); n.srcs.forEach(walk); } };
    walk(y.node);
    expect([...kinds]).toEqual(['view']);
  });
});

describe("PyTorch's positional forms read as the options forms", () => {
  const x = born.randn([1, 2, 7], { seed: 8 }), x4 = born.randn([1, 2, 3, 4], { seed: 9 });
  const w = born.randn([4, 1, 3], { seed: 10 }), wt = born.randn([2, 3, 3], { seed: 11 }), wt2 = born.randn([2, 2, 2, 3], { seed: 12 });
  const same = async (a: Tensor, b: Tensor): Promise<void> => {
    expect(a.shape).toEqual(b.shape);
    expect(await a.data()).toEqual(await b.data());
  };
  test.each([
    ['conv1d(x, w, b, stride, padding, dilation, groups)', () => [F.conv1d(x, w, null, 2, 1, 2, 2), F.conv1d(x, w, null, { stride: 2, padding: 1, dilation: 2, groups: 2 })]],
    ['convTranspose1d(x, w, b, stride, padding, outputPadding)', () => [F.convTranspose1d(x, wt, null, 2, 1, 1), F.convTranspose1d(x, wt, null, { stride: 2, padding: 1, outputPadding: 1 })]],
    ['convTranspose2d(x, w, b, stride, padding)', () => [F.convTranspose2d(x4, wt2, null, [2, 1], 1), F.convTranspose2d(x4, wt2, null, { stride: [2, 1], padding: 1 })]],
    ['maxPool1d(x, k, stride, padding, dilation, ceilMode)', () => [F.maxPool1d(x, 3, 2, 1, 1, true), F.maxPool1d(x, 3, { stride: 2, padding: 1, ceilMode: true })]],
    ['avgPool1d(x, k, stride, padding, ceilMode, countIncludePad)', () => [F.avgPool1d(x, 3, 2, 1, false, false), F.avgPool1d(x, 3, { stride: 2, padding: 1, countIncludePad: false })]],
    ["pad(x, pads, 'reflect')", () => [F.pad(x, [2, 1], 'reflect'), F.pad(x, [2, 1], { mode: 'reflect' })]],
    ["pad(x, pads, 'constant', value)", () => [F.pad(x, [2, 1], 'constant', 3), F.pad(x, [2, 1], { value: 3 })]],
    ['interpolate(x, size)', () => [F.interpolate(x4, [5, 6]), F.interpolate(x4, { size: [5, 6] })]],
    ["interpolate(x, null, scaleFactor, 'bilinear', true)", () => [F.interpolate(x4, null, 2, 'bilinear', true), F.interpolate(x4, { scaleFactor: 2, mode: 'bilinear', alignCorners: true })]],
    ['instanceNorm(x, null, null, weight, bias)', () => [F.instanceNorm(x, null, null, born.ones([2]).mul(2), born.zeros([2])), F.instanceNorm(x, { weight: born.ones([2]).mul(2), bias: born.zeros([2]) })]],
  ] as const)('%s', async (_name, pair) => {
    const [a, b] = pair();
    await same(a, b);
  });
  test('an option given both ways, or too many positional arguments, is a TypeError', () => {
    const loosePad = F.pad as (...a: unknown[]) => Tensor;
    expect(() => loosePad(x, [1, 1], 'reflect', 0, 1)).toThrow(/pad: expected at most 2 positional arguments after the inputs \(mode, value\), got 3/);
    expect(() => loosePad(x, [1, 1], 'reflect', { mode: 'replicate' })).toThrow(/pad: mode given both positionally and in the options object/);
    expect(() => F.maxPool1d(x, 3, 2, { stride: 1 } as never)).toThrow(/maxPool1d: stride given both positionally and in the options object/);
  });
});

describe('errors name the op and what would be valid', () => {
  const x3 = born.zeros([1, 2, 5]), x4 = born.zeros([1, 2, 4, 4]);
  test.each([
    ['conv1d on a 4-d input', () => F.conv1d(x4, born.zeros([2, 2, 3])), /conv1d: expected input \[N, C, L\] or \[C, L\] and weight \[O, C\/groups, k\]/],
    ["conv1d 'same' with stride 2", () => F.conv1d(x3, born.zeros([2, 2, 3]), null, { padding: 'same', stride: 2 }), /conv1d: padding 'same' needs stride 1/],
    ['conv1d with an unknown option', () => F.conv1d(x3, born.zeros([2, 2, 3]), null, { pad: 1 } as never), /conv1d: unknown option 'pad' \(valid options: stride, padding, dilation, groups\)/],
    ['Conv1d with a bad paddingMode', () => nn.Conv1d(2, 2, 3, { paddingMode: 'mirror' as never }), /Conv1d: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular'/],
    ['Conv1d with channels not divisible by groups', () => nn.Conv1d(3, 4, 3, { groups: 2 }), /Conv1d: inChannels 3 and outChannels 4 must both be divisible by groups 2/],
    ['convTranspose2d with the conv weight layout', () => F.convTranspose2d(x4, born.zeros([3, 2, 3, 3])), /convTranspose2d: input has 2 channels but weight \[3, 2, 3, 3\].*\[Cin, Cout\/groups, kh, kw\]/],
    ['convTranspose1d with outputPadding >= stride', () => F.convTranspose1d(x3, born.zeros([2, 2, 3]), null, { stride: 2, outputPadding: 2 }), /convTranspose1d: .*outputPadding smaller than stride or dilation/],
    ['maxPool1d with padding over half the kernel', () => F.maxPool1d(x3, 2, { padding: 2 }), /maxPool1d: .*padding between 0 and half the kernel/],
    ['avgPool1d with divisorOverride (not supported)', () => F.avgPool1d(x3, 2, { divisorOverride: 2 } as never), /avgPool1d: unknown option 'divisorOverride' \(valid options: stride, padding, ceilMode, countIncludePad\)/],
    ['maxPool1d with a non-boolean ceilMode', () => F.maxPool1d(x3, 2, { ceilMode: 1 as never }), /maxPool1d: ceilMode must be true or false/],
    ['adaptiveMaxPool2d on a 1-d input', () => F.adaptiveMaxPool2d(born.zeros([4]), 2), /adaptiveMaxPool2d: expected input \[N, C, H, W\] or \[C, H, W\]/],
    ['adaptiveAvgPool1d with two sizes', () => F.adaptiveAvgPool1d(x3, [2, 2] as never), /adaptiveAvgPool1d: outputSize must be one size or 1/],
    ['groupNorm with channels not divisible', () => F.groupNorm(x4, 3), /groupNorm: expected input \[N, C, \*\] with C divisible by numGroups, got \[1, 2, 4, 4\] and numGroups number 3/],
    ['GroupNorm on the wrong channels', () => nn.GroupNorm(2, 4).forward(x4), /GroupNorm\(2, 4\): expected input \[N, 4, \*\]/],
    ['InstanceNorm2d on a 3-d batch of the wrong channels', () => nn.InstanceNorm2d(3, { affine: true }).forward(x4), /InstanceNorm2d\(3\): expected input \[N, 3, H, W\] or \[3, H, W\]/],
    ['pad reflect as wide as the dim', () => F.pad(x3, [5, 0], { mode: 'reflect' }), /pad: reflect padding of \(5, 0\) does not fit dim 2 of size 5 .*< the dim size/],
    ['pad with an unknown mode', () => F.pad(x3, [1, 1], { mode: 'wrap' as never }), /pad: mode must be 'constant', 'reflect', 'replicate' or 'circular'/],
    ['pad replicate on the batch dim', () => F.pad(x3, [1, 1, 1, 1, 1, 1], { mode: 'replicate' }), /pad: replicate padding takes .* at most the 2 trailing dims/],
    ['interpolate with size and scaleFactor', () => F.interpolate(x4, { size: 8, scaleFactor: 2 }), /interpolate: give exactly one of size and scaleFactor/],
    ['interpolate bilinear on [N, C, L]', () => F.interpolate(x3, { size: 8, mode: 'bilinear' }), /interpolate: mode 'bilinear' takes \[N, C, H, W\] input, got \[1, 2, 5\]/],
    ['interpolate nearest with alignCorners', () => F.interpolate(x4, { size: 8, alignCorners: true }), /interpolate: alignCorners only applies to the linear modes/],
    ['interpolate with a misspelt option', () => F.interpolate(x4, { scale_factor: 2 } as never), /interpolate: unknown option 'scale_factor' \(valid options: size, scaleFactor, mode, alignCorners\)/],
    ['Upsample with an unknown mode', () => nn.Upsample({ scaleFactor: 2, mode: 'bicubic' as never }).forward(x4), /interpolate: mode must be 'nearest', 'linear' or 'bilinear'/],
  ])('%s', (_name, f, message) => {
    expect(f).toThrow(message);
  });
});
