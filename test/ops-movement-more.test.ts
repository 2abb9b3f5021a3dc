// Movement composites (triu, tril, repeat, tile, expandAs, roll, movedim, diag, trace,
// born.meshgrid) against PyTorch 1.13 golden values and gradients (test/fixtures/spatial.json,
// float64), their call forms, that they stay zero-copy views where PyTorch's are, and errors
// that name the op and what would be valid.
import { describe, expect, test } from 'vitest';
import * as born from '../src/index.js';
import type { Tensor } from './reference/check.js';
import { testFnCases } from './reference/spatial.js';

const MOVEMENT = new Set(['triu', 'tril', 'repeat', 'tile', 'expandAs', 'roll', 'movedim', 'diag', 'trace', 'meshgrid']);

type O = Record<string, never>;
function run(fn: string, ins: Record<string, Tensor>, o: O): Tensor {
  const x = ins['x']!;
  switch (fn) {
    case 'triu': return o['diagonal'] === undefined ? x.triu() : x.triu(o['diagonal']);
    case 'tril': return o['diagonal'] === undefined ? x.tril() : x.tril(o['diagonal']);
    case 'diag': return o['diagonal'] === undefined ? x.diag() : x.diag(o['diagonal']);
    case 'repeat': return x.repeat(...(o['sizes'] as number[]));
    case 'tile': return x.tile(o['dims'] as number[]);
    case 'expandAs': return x.expandAs(ins['other']!);
    case 'roll': return x.roll(o['shifts'], o['dims']);
    case 'movedim': return x.movedim(o['source'], o['destination']);
    case 'trace': return x.trace();
    case 'meshgrid': return born.stack(born.meshgrid(...Object.keys(ins).sort().map((k) => ins[k]!), { indexing: o['indexing'] }));
  }
  throw new Error(`no case for ${fn}`);
}

describe('movement composites vs PyTorch (float64, values and gradients)', () => {
  testFnCases(MOVEMENT, 'composite', run);
});

describe('call forms', () => {
  const x = born.arange(0, 12).reshape([3, 4]);
  test('repeat and tile take a list or integers; roll and triu take options', async () => {
    expect(await x.repeat([2, 1]).tolist()).toEqual(await x.repeat(2, 1).tolist());
    expect(await x.tile([2]).tolist()).toEqual(await x.tile(2).tolist());
    expect(await x.roll({ shifts: 1, dims: 0 }).tolist()).toEqual(await x.roll(1, 0).tolist());
    expect(await x.triu({ diagonal: 1 }).tolist()).toEqual(await x.triu(1).tolist());
    expect(await x.diag({ diagonal: -1 }).tolist()).toEqual([4, 9]);
    const [a, b] = born.meshgrid([born.tensor([1, 2]), born.tensor([3, 4, 5])]);
    expect(a!.shape).toEqual([2, 3]);
    expect(await b!.tolist()).toEqual([[3, 4, 5], [3, 4, 5]]);
  });
  test('integer and bool tensors keep their dtype', async () => {
    expect(x.triu().dtype).toBe('int32');
    expect(await x.tril().sum().item()).toBe(0 + 4 + 5 + 8 + 9 + 10);
    expect(x.trace().dtype).toBe('int32');
    expect(await x.trace().item()).toBe(15);
    const m = born.tensor([[true, true], [true, true]]).triu();
    expect(m.dtype).toBe('bool');
    expect(await m.tolist()).toEqual([[1, 1], [0, 1]]);
  });
});

describe('zero-copy', () => {
  test('repeat, tile, expandAs, movedim, diag and meshgrid build views only', () => {
    const x = born.randn([2, 3], { seed: 1 });
    const kinds = (t: Tensor): Set<string> => {
      const seen = new Set<string>();
      const walk = (n: Tensor['node']): void => {
        if (n === x.node) return;
        seen.add(n.arg.kind);
        n.srcs.forEach(walk);
      };
      walk(t.node);
      return seen;
    };
    for (const t of [x.repeat(2, 2), x.tile(3), x.expandAs(born.zeros([4, 2, 3])), x.movedim(0, 1), x.diag(), x.flatten().diag(1), born.meshgrid(x.flatten(), x.flatten())[1]!]) {
      expect([...kinds(t)]).toEqual(['view']);
    }
  });
});

describe('on non-contiguous inputs (permuted, sliced, flipped views)', () => {
  const base = born.arange(0, 30).reshape([5, 6]).to('float32');
  const inputs: [string, Tensor][] = [
    ['transposed', base.T],
    ['strided slice', base.slice(1, 1, 6, 2)],
    ['flipped', base.flip([0, 1])],
  ];
  const ops: [string, (t: Tensor) => Tensor][] = [
    ['repeat(2, 1, 3)', (t) => t.repeat(2, 1, 3)],
    ['tile(2)', (t) => t.tile(2)],
    ['roll([1, -1], [0, 1])', (t) => t.roll([1, -1], [0, 1])],
    ['roll(4)', (t) => t.roll(4)],
    ['movedim(0, 1)', (t) => t.movedim(0, 1)],
    ['triu(1)', (t) => t.triu(1)],
    ['tril(-1)', (t) => t.tril(-1)],
    ['diag(1)', (t) => t.diag(1)],
    ['diag(-1)', (t) => t.diag(-1)],
    ['trace()', (t) => t.trace()],
  ];
  for (const [iname, t] of inputs) {
    for (const [oname, f] of ops) {
      test(`${oname} of a ${iname} view equals it on a stored copy`, async () => {
        expect(await f(t).tolist()).toEqual(await f(t.clone()).tolist());
      });
    }
  }
});

describe('errors name the op and what would be valid', () => {
  const x = born.zeros([2, 3]);
  test.each([
    ['repeat with fewer sizes than dims', () => x.repeat(2), /repeat: .*\[2\].*\[2, 3\].*at least 2/],
    ['repeat with a non-integer', () => x.repeat(1.5, 2), /repeat: sizes must be integers/],
    ['roll with mismatched shifts and dims', () => x.roll([1, 2], [0]), /roll: shifts \[1, 2\] and dims \[0\] must have the same length/],
    ['roll with several shifts and no dims', () => x.roll([1, 2]), /roll: without dims, shifts must be one integer/],
    ['roll with a bad dim', () => x.roll(1, 5), /roll: .*dim/],
    ['roll with an unknown option', () => x.roll({ shift: 1 } as never), /roll: unknown option 'shift' \(valid options: shifts, dims\)/],
    ['expandAs with a shape instead of a tensor', () => x.expandAs([2, 3] as never), /expandAs: expected a tensor whose shape to expand to, got an array/],
    ['expandAs to an incompatible shape', () => x.expandAs(born.zeros([3, 2])), /expand: cannot expand a tensor of shape \[2, 3\] to \[3, 2\]/],
    ['movedim with repeated dims', () => x.movedim([0, 0], [0, 1]), /movedim: source \[0, 0\] .*distinct/],
    ['triu on a vector', () => born.zeros([3]).triu(), /triu: expected a tensor of at least 2 dims/],
    ['tril with a fractional diagonal', () => x.tril(0.5), /tril: diagonal must be an integer/],
    ['diag of a 3-d tensor', () => born.zeros([2, 2, 2]).diag(), /diag: expected a 1-D tensor .* or a 2-D one/],
    ['trace of a vector', () => born.zeros([3]).trace(), /trace: expected a 2-D tensor/],
    ['meshgrid of a matrix', () => born.meshgrid(x), /meshgrid: expected one or more 0-D or 1-D tensors, got \[2, 3\]/],
    ['meshgrid with a bad indexing', () => born.meshgrid(born.zeros([2]), { indexing: 'yx' as never }), /meshgrid: indexing must be 'ij' or 'xy'/],
  ])('%s', (_name, f, message) => {
    expect(f).toThrow(message);
  });
});
