/**
 * Loop and Scan: the body runs once per iteration as a subgraph over this graph's values, so
 * each iteration's ops are recorded lazily like the rest of the model. Loop's condition is read
 * on the host after every iteration (one scalar; free when the body passes a host value through);
 * scan outputs are stacked along a new axis once the loop ends. Loop-carried values may be
 * sequences or optionals (opset 13+ and 16+); scan outputs and Scan's values are tensors.
 */
import { newArray, storageFrom } from '../../graph/dtype.js';
import { stack } from '../../tensor/join.js';
import type { Tensor } from '../../tensor/tensor.js';
import { host, HOST_LIMIT, isHost, numbers, numel, toHost } from '../host.js';
import type { GraphProto } from '../proto.js';
import { bornDType, type HostArray } from '../tensor-proto.js';
import { register, registerAny, type OpContext, type Value } from './registry.js';
import { isTensorValue, kindOf, type AnyValue } from '../values.js';

/**
 * The per-iteration values stacked along `axis` of the result (0 -> a new first axis). Host
 * parts stacked along axis 0 stay host while small, so shape arithmetic in loops stays on the host.
 */
function stackParts(ctx: OpContext, parts: readonly Value[], axis: number): Value {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.shape.length !== first.shape.length || p.shape.some((s, i) => s !== first.shape[i])) {
      ctx.fail(`scan output shapes differ between iterations: [${first.shape.join(', ')}] and [${p.shape.join(', ')}]`);
    }
  }
  if (axis === 0 && parts.every((p): p is HostArray => isHost(p) && p.dtype === first.dtype) && parts.length * numel(first.shape) <= HOST_LIMIT) {
    const vals = parts.flatMap((p) => numbers(p));
    return { dtype: first.dtype, shape: [parts.length, ...first.shape], data: storageFrom(first.dtype, vals) };
  }
  return stack(parts.map((p, i) => ctx.tensorOf(p, `scan output part ${i}`)), axis);
}

/** A scan output of zero iterations: empty, with the body output's declared element type and shape. */
function emptyScan(ctx: OpContext, body: GraphProto, outIndex: number, axis: number): HostArray {
  const info = body.output?.[outIndex];
  const tt = info?.type?.tensor_type;
  const dims = tt?.shape?.dim;
  if (!tt || !dims || dims.some((d) => d.dim_value === undefined)) {
    ctx.fail(`the loop ran zero times and body output ${JSON.stringify(info?.name ?? outIndex)} has no static shape to give its empty scan output`);
  }
  const shape = dims.map((d) => Number(d.dim_value));
  shape.splice(axis, 0, 0);
  const dtype = bornDType(tt.elem_type, `body output ${JSON.stringify(info?.name)}`);
  return { dtype, shape, data: newArray(dtype, 0) };
}

/** A body output that must be a tensor (a condition, a scan output, a Scan state). */
function tensorOut(ctx: OpContext, body: GraphProto, v: AnyValue, k: number): Value {
  if (isTensorValue(v)) return v;
  return ctx.fail(`body output ${k} (${JSON.stringify(body.output?.[k]?.name ?? '')}) is ${kindOf(v)}, expected a tensor`);
}

const scalarOne = (ctx: OpContext, v: HostArray, what: string): number => {
  const n = numbers(v);
  if (n.length !== 1) ctx.fail(`${what} must hold one value, got ${n.length}`);
  return n[0]!;
};

registerAny('Loop', 1, async (ctx, inputs) => {
  const body = ctx.attr.graph('body');
  const maxTrips = ctx.has(0) ? scalarOne(ctx, await ctx.host(0), 'the trip count M') : undefined;
  const hasCond = ctx.has(1);
  let cond = hasCond ? scalarOne(ctx, await ctx.host(1), 'the condition') !== 0 : true;
  if (maxTrips === undefined && !hasCond) ctx.fail('neither a trip count nor a condition is given: the loop would never end');
  let carried = inputs.slice(2).map((v, i) => v ?? ctx.fail(`loop-carried input ${i + 2} is required`));
  const nScan = (body.output?.length ?? 0) - 1 - carried.length;
  if (nScan < 0) ctx.fail(`the body gives ${body.output?.length ?? 0} outputs for 1 condition and ${carried.length} loop-carried values`);
  const scans: Value[][] = Array.from({ length: nScan }, () => []);
  const what = `Loop ${JSON.stringify(ctx.node.name)}'s body`;
  for (let i = 0; (maxTrips === undefined || i < maxTrips) && cond; i++) {
    const outs = await ctx.runGraph(body, [host('int64', [], [i]), host('bool', [], [1]), ...carried], what);
    // Without a condition input the body's condition output is ignored (ONNX's `for` form).
    if (hasCond) {
      const c = tensorOut(ctx, body, outs[0]!, 0);
      cond = scalarOne(ctx, isHost(c) ? c : await toHost(c), 'the body condition') !== 0;
    }
    carried = outs.slice(1, 1 + carried.length);
    outs.slice(1 + carried.length).forEach((v, k) => scans[k]!.push(tensorOut(ctx, body, v, 1 + carried.length + k)));
  }
  return [...carried, ...scans.map((parts, k) => (parts.length ? stackParts(ctx, parts, 0) : emptyScan(ctx, body, 1 + carried.length + k, 0)))];
});

const axisIn = (ctx: OpContext, a: number, rank: number, what: string): number => {
  if (a < -rank || a >= rank) ctx.fail(`${what} ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
};

interface ScanPlan {
  readonly inAxes: readonly number[];
  readonly inReverse: readonly boolean[];
  readonly outAxes: readonly number[];
  readonly outReverse: readonly boolean[];
}

/** One Scan over `states` and `seqs` (opset 9's form): final states, then the stacked scan outputs. */
async function scanOnce(ctx: OpContext, body: GraphProto, states: readonly Value[], seqs: readonly Tensor[], plan: ScanPlan): Promise<Value[]> {
  const axes = seqs.map((t, j) => axisIn(ctx, plan.inAxes[j] ?? 0, t.ndim, `scan_input_axes[${j}]`));
  const lengths = seqs.map((t, j) => t.shape[axes[j]!]!);
  const len = lengths[0] ?? 0;
  if (lengths.some((l) => l !== len)) ctx.fail(`the scan inputs' sequence lengths differ: ${lengths.join(', ')}`);
  const nOut = (body.output?.length ?? 0) - states.length;
  if (nOut < 0) ctx.fail(`the body gives ${body.output?.length ?? 0} outputs for ${states.length} state variables`);
  let carried = [...states];
  const scans: Value[][] = Array.from({ length: nOut }, () => []);
  const what = `Scan ${JSON.stringify(ctx.node.name)}'s body`;
  for (let i = 0; i < len; i++) {
    const slices = seqs.map((t, j) => {
      const at = plan.inReverse[j] ? len - 1 - i : i;
      return t.narrow(axes[j]!, at, 1).squeeze(axes[j]!);
    });
    const outs = await ctx.runGraph(body, [...carried, ...slices], what);
    carried = outs.slice(0, states.length).map((v, k) => tensorOut(ctx, body, v, k));
    outs.slice(states.length).forEach((v, k) => scans[k]!.push(tensorOut(ctx, body, v, states.length + k)));
  }
  return [...carried, ...scans.map((parts, k) => {
    const rank = (parts[0]?.shape.length ?? body.output?.[states.length + k]?.type?.tensor_type?.shape?.dim?.length ?? 0) + 1;
    const axis = axisIn(ctx, plan.outAxes[k] ?? 0, rank, `scan_output_axes[${k}]`);
    if (!parts.length) return emptyScan(ctx, body, states.length + k, axis);
    return stackParts(ctx, plan.outReverse[k] ? [...parts].reverse() : parts, axis);
  })];
}

/** Opset 9+: states then scan inputs, each scanned along its own axis and direction. */
register('Scan', 9, async (ctx, inputs) => {
  const body = ctx.attr.graph('body');
  const m = ctx.attr.int('num_scan_inputs');
  const nStates = inputs.length - m;
  if (m < 1 || nStates < 0) ctx.fail(`num_scan_inputs ${m} does not fit the node's ${inputs.length} inputs`);
  const states = inputs.slice(0, nStates).map((v, i) => v ?? ctx.fail(`state input ${i} is required`));
  const seqs = inputs.slice(nStates).map((_, j) => ctx.tensor(nStates + j));
  const plan: ScanPlan = {
    inAxes: ctx.attr.ints('scan_input_axes', []),
    inReverse: ctx.attr.ints('scan_input_directions', []).map((d) => d === 1),
    outAxes: ctx.attr.ints('scan_output_axes', []),
    outReverse: ctx.attr.ints('scan_output_directions', []).map((d) => d === 1),
  };
  return scanOnce(ctx, body, states, seqs, plan);
});

/**
 * Opset 8: every input and output has a leading batch axis, scanned along axis 1; each batch entry
 * runs as one opset-9 scan and the results are stacked. Per-entry sequence_lens shorter than the
 * full length (padding) are not supported.
 */
register('Scan', 8, async (ctx, inputs) => {
  const body = ctx.attr.graph('body');
  const m = ctx.attr.int('num_scan_inputs');
  const nStates = inputs.length - 1 - m;
  if (m < 1 || nStates < 0) ctx.fail(`num_scan_inputs ${m} does not fit the node's ${inputs.length} inputs`);
  const states = inputs.slice(1, 1 + nStates).map((_, i) => ctx.tensor(1 + i));
  const seqs = inputs.slice(1 + nStates).map((_, j) => ctx.tensor(1 + nStates + j));
  const batch = (states[0] ?? seqs[0]!).shape[0] ?? ctx.fail('inputs need a batch axis');
  if (batch === 0) ctx.fail('a batch of zero entries is not supported');
  for (const t of [...states, ...seqs]) if (t.ndim < 1 || t.shape[0] !== batch) ctx.fail(`every input needs batch size ${batch} on axis 0, got [${t.shape.join(', ')}]`);
  for (const t of seqs) if (t.ndim < 2) ctx.fail(`a scan input needs [batch, sequence, ...], got [${t.shape.join(', ')}]`);
  if (ctx.has(0)) {
    const full = seqs[0]!.shape[1]!;
    const lens = await ctx.ints(0);
    if (lens.some((l) => l !== full)) ctx.fail(`sequence_lens ${JSON.stringify(lens)}: only full-length sequences (${full}) are supported`);
  }
  const plan: ScanPlan = { inAxes: [], inReverse: ctx.attr.ints('directions', []).map((d) => d === 1), outAxes: [], outReverse: [] };
  const perBatch: Value[][] = [];
  for (let b = 0; b < batch; b++) {
    const pick = (t: Tensor): Tensor => t.narrow(0, b, 1).squeeze(0);
    perBatch.push(await scanOnce(ctx, body, states.map(pick), seqs.map(pick), plan));
  }
  return perBatch[0]!.map((_, k) => stackParts(ctx, perBatch.map((outs) => outs[k]!), 0));
});
