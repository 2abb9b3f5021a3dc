/**
 * Sequence and optional ops: SequenceConstruct, SequenceEmpty, SequenceInsert, SequenceErase,
 * SequenceAt, SequenceLength, ConcatFromSequence, SplitToSequence, SequenceMap, Optional,
 * OptionalHasElement, OptionalGetElement. A sequence holds its tensors as they are (lazy tensors or
 * host arrays), so shape arithmetic through a sequence stays on the host; the ops only rearrange
 * the list. ConcatFromSequence is Concat (its builder, on the sequence's tensors).
 */
import { host, isHost, numbers } from '../host.js';
import { bornDType } from '../tensor-proto.js';
import { isSequence, isTensorValue, kindOf, OptionalValue, SequenceValue } from '../values.js';
import { registerAny, resolve, type OpContext, type Value } from './registry.js';

const int64Scalar = (n: number): Value => host('int64', [], [n]);
const boolScalar = (b: boolean): Value => host('bool', [], [b ? 1 : 0]);

/** The i-th input as a tensor value (host arrays stay host). */
function tensorValue(ctx: OpContext, i: number): Value {
  const v = ctx.value(i);
  return isTensorValue(v) ? v : ctx.fail(`input ${i} (${JSON.stringify(ctx.node.inputs[i] ?? '')}) is ${kindOf(v)}, expected a tensor`);
}

function sameDtype(ctx: OpContext, seq: SequenceValue, v: Value, what: string): void {
  if (v.dtype !== seq.dtype) ctx.fail(`${what} is ${v.dtype}, but the sequence holds ${seq.dtype}`);
}

/** A position input (one integer) in [-n, n - 1], or [-n, n] where `end` is allowed (insertion). */
async function position(ctx: OpContext, i: number, n: number, end: boolean): Promise<number> {
  const p = await ctx.ints(i);
  if (p.length !== 1) ctx.fail(`position must hold one value, got ${p.length}`);
  const at = p[0]!;
  const hi = end ? n : n - 1;
  if (at < -n || at > hi) ctx.fail(`position ${at} is out of range for a sequence of ${n} (allowed: ${-n} to ${hi})`);
  return at < 0 ? at + n : at;
}

registerAny('SequenceConstruct', 11, (ctx, ins) => {
  if (!ins.length) ctx.fail('needs at least one input');
  const items = ins.map((_, i) => tensorValue(ctx, i));
  const seq = new SequenceValue(items[0]!.dtype, items);
  items.forEach((t, i) => sameDtype(ctx, seq, t, `input ${i}`));
  return [seq];
});

registerAny('SequenceEmpty', 11, (ctx) => [new SequenceValue(bornDType(ctx.attr.int('dtype', 1), 'the dtype attribute'), [])]);

registerAny('SequenceInsert', 11, async (ctx) => {
  const seq = ctx.sequence(0);
  const t = tensorValue(ctx, 1);
  sameDtype(ctx, seq, t, 'the tensor');
  const at = ctx.has(2) ? await position(ctx, 2, seq.length, true) : seq.length;
  return [new SequenceValue(seq.dtype, [...seq.items.slice(0, at), t, ...seq.items.slice(at)])];
});

registerAny('SequenceErase', 11, async (ctx) => {
  const seq = ctx.sequence(0);
  if (!seq.length) ctx.fail('the sequence is empty: nothing to erase');
  const at = ctx.has(1) ? await position(ctx, 1, seq.length, false) : seq.length - 1;
  return [new SequenceValue(seq.dtype, seq.items.filter((_, i) => i !== at))];
});

registerAny('SequenceAt', 11, async (ctx) => {
  const seq = ctx.sequence(0);
  return [seq.items[await position(ctx, 1, seq.length, false)]!];
});

registerAny('SequenceLength', 11, (ctx) => [int64Scalar(ctx.sequence(0).length)]);

registerAny('ConcatFromSequence', 11, async (ctx) => {
  const seq = ctx.sequence(0);
  if (!seq.length) ctx.fail('the sequence is empty: there is nothing to concatenate');
  let items = seq.items;
  if (ctx.attr.int('new_axis', 0) === 1) {
    // Stacking is concatenation along a new axis of size 1; `axis` then counts in rank + 1, as Concat reads it.
    const rank = items[0]!.shape.length;
    const a = ctx.attr.int('axis');
    if (a < -rank - 1 || a > rank) ctx.fail(`axis ${a} is out of range for new_axis over rank ${rank}`);
    const d = a < 0 ? a + rank + 1 : a;
    items = items.map((v) => {
      const shape = [...v.shape.slice(0, d), 1, ...v.shape.slice(d)];
      return isHost(v) ? { dtype: v.dtype, shape, data: v.data } : v.unsqueeze(d);
    });
  }
  const concat = resolve('Concat', '', ctx.opset);
  if (typeof concat === 'string') return ctx.fail(concat);
  return concat(ctx, items);
});

registerAny('SplitToSequence', 11, async (ctx) => {
  const x = ctx.tensor(0);
  const rank = x.ndim;
  const a = ctx.attr.int('axis', 0);
  if (a < -rank || a >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  const axis = a < 0 ? a + rank : a;
  const dim = x.shape[axis]!;
  let sizes: number[];
  if (!ctx.has(1)) sizes = new Array<number>(dim).fill(1);
  else {
    const split = await ctx.host(1);
    const s = numbers(split);
    if (split.shape.length === 0) {
      // A scalar is a piece length: equal pieces, the last one shorter if it does not divide.
      if (s[0]! < 1) ctx.fail(`split ${s[0]} must be positive`);
      sizes = [];
      for (let at = 0; at < dim; at += s[0]!) sizes.push(Math.min(s[0]!, dim - at));
    } else {
      sizes = s;
      if (sizes.some((n) => n < 0) || sizes.reduce((p, q) => p + q, 0) !== dim) ctx.fail(`split sizes [${sizes.join(', ')}] do not add up to ${dim}`);
    }
  }
  // keepdims applies only without a split input: then every piece has length 1 along the axis.
  const squeeze = !ctx.has(1) && ctx.attr.int('keepdims', 1) === 0;
  let at = 0;
  const items = sizes.map((n) => { const p = x.narrow(axis, at, n); at += n; return squeeze ? p.squeeze(axis) : p; });
  return [new SequenceValue(x.dtype, items)];
});

/** SequenceMap: the body once per element; sequence inputs give their i-th tensor, tensor inputs themselves. */
registerAny('SequenceMap', 17, async (ctx, ins) => {
  const body = ctx.attr.graph('body');
  const first = ctx.sequence(0);
  const n = first.length;
  const args = ins.map((_, i) => {
    const v = ctx.value(i);
    if (isSequence(v) && v.length !== n) ctx.fail(`input ${i}'s sequence has ${v.length} elements, input 0's ${n}`);
    if (!isSequence(v) && !isTensorValue(v)) ctx.fail(`input ${i} (${JSON.stringify(ctx.node.inputs[i] ?? '')}) is ${kindOf(v)}, expected a sequence or a tensor`);
    return v;
  });
  const nOut = body.output?.length ?? 0;
  if (nOut !== ctx.node.outputs.length) ctx.fail(`the body gives ${nOut} outputs for the node's ${ctx.node.outputs.length}`);
  const outs: Value[][] = Array.from({ length: nOut }, () => []);
  const what = `SequenceMap ${JSON.stringify(ctx.node.name)}'s body`;
  for (let i = 0; i < n; i++) {
    const got = await ctx.runGraph(body, args.map((v) => (isSequence(v) ? v.items[i]! : v)), what);
    got.forEach((v, k) => outs[k]!.push(isTensorValue(v) ? v : ctx.fail(`body output ${k} is ${kindOf(v)}, expected a tensor`)));
  }
  return outs.map((items, k) => {
    // An empty result takes its element type from the body's declared output.
    const dtype = items[0]?.dtype ?? bornDType(body.output?.[k]?.type?.tensor_type?.elem_type, `body output ${JSON.stringify(body.output?.[k]?.name ?? k)}`);
    return new SequenceValue(dtype, items);
  });
});

// ---- optionals ----

registerAny('Optional', 15, (ctx) => {
  if (!ctx.has(0)) return [new OptionalValue(null)];
  const v = ctx.value(0);
  return [new OptionalValue(v instanceof OptionalValue ? ctx.fail('input 0 is an optional: an optional of an optional is not a type') : v)];
});

/** Opset 18 also takes a tensor or sequence (then: true) and no input (false). */
registerAny('OptionalHasElement', 15, (ctx) => {
  if (!ctx.has(0)) {
    if (ctx.opset < 18) ctx.fail('input 0 is required');
    return [boolScalar(false)];
  }
  const v = ctx.value(0);
  if (v instanceof OptionalValue) return [boolScalar(v.value !== null)];
  if (ctx.opset < 18) ctx.optional(0);
  return [boolScalar(true)];
});

/** Opset 18 also takes a tensor or sequence and gives it back. */
registerAny('OptionalGetElement', 15, (ctx) => {
  const v = ctx.value(0);
  if (!(v instanceof OptionalValue)) {
    if (ctx.opset < 18) ctx.optional(0);
    return [v];
  }
  return [v.value ?? ctx.fail('the optional is empty: there is no element to get')];
});
