/**
 * The op registry: ONNX op type (+ domain) -> builders by opset.
 *
 * Adding an op family: write src/onnx/ops/<family>.ts that calls `register` at module level, and
 * add one import line to src/onnx/ops/index.ts. Nothing else needs to change.
 *
 *   register('Relu', 1, (ctx, [x]) => [ctx.tensorOf(x, 0).relu()]);
 *   register('Clip', [[1, clipAttrs], [11, clipInputs]]);          // per-opset builders
 *   register('Gather', 1, build, { domain: '' });
 *
 * Resolution: for a node of `opType` in `domain` (default '' = ai.onnx), the entry with the
 * greatest `since` <= the model's opset for that domain is used; none -> a clear error naming the
 * node, op type, opset and the opsets that are implemented.
 *
 * `build(ctx, inputs)`:
 * - `inputs[i]` is the node's i-th input as a `Value`: a lazy Born `Tensor`, or a `HostArray`
 *   (values known on the host: shapes from Shape, Constant/initializer values under a size limit,
 *   and the results of integer arithmetic on them), so Shape -> Gather -> Concat -> Reshape runs on
 *   the host and never waits on a device. An optional input left out ('' in the model, or missing
 *   at the end) is `undefined`.
 * - It returns its outputs in order (Value | undefined for optional outputs not produced), or a
 *   Promise of them (when it needs data-dependent values: `await ctx.ints(i)`).
 * - Keep host values host when every input is host and the op is cheap (see ../host.ts helpers);
 *   otherwise use `ctx.tensor(i)` and Born's public tensor API, so the result stays lazy.
 *
 * Sequences and optionals (../values.ts) reach only builders registered with `registerAny`
 * (sequence ops, If/Loop, Identity); any other op given one fails naming the input and its kind.
 */
import type { DeviceName } from '../../graph/node.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { GraphProto, TensorProto } from '../proto.js';
import type { HostArray } from '../tensor-proto.js';
import { isTensorValue, kindOf, type AnyValue, type OptionalValue, type SequenceValue } from '../values.js';

/** What the environment holds for a tensor value's name. */
export type Value = Tensor | HostArray;
export type { AnyValue, OptionalValue, SequenceValue };

/** Typed attribute getters; each takes a default, and without one a missing attribute is ctx.fail. */
export interface Attrs {
  has(name: string): boolean;
  int(name: string, dflt?: number): number;
  ints(name: string, dflt?: readonly number[]): number[];
  float(name: string, dflt?: number): number;
  floats(name: string, dflt?: readonly number[]): number[];
  string(name: string, dflt?: string): string;
  strings(name: string, dflt?: readonly string[]): string[];
  /** A TensorProto attribute, read to host values. */
  tensor(name: string): HostArray;
  tensor(name: string, dflt: HostArray | undefined): HostArray | undefined;
  graph(name: string): GraphProto;
  /** The raw AttributeProto value for anything else (sparse tensors, type protos). */
  raw(name: string): unknown;
}

export interface NodeInfo {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OpContext {
  readonly node: NodeInfo;
  /** The model's opset for this node's domain. */
  readonly opset: number;
  /** The device the model runs on (undefined: Born's default device). */
  readonly device: DeviceName | undefined;
  readonly attr: Attrs;
  /** The i-th input as a Tensor (host values are uploaded once and cached); fails if absent. */
  tensor(i: number): Tensor;
  /** The same for any value (e.g. one computed inside the builder). */
  tensorOf(v: Value, what?: number | string): Tensor;
  /** The i-th input's values on the host: known ones at once, else `await tensor.data()`. */
  host(i: number): Promise<HostArray>;
  /** The i-th input's values if they are known on the host without computing, else undefined. */
  hostNow(i: number): HostArray | undefined;
  /** The i-th input's values as numbers (int64 as exact-to-2^53 numbers). */
  ints(i: number): Promise<number[]>;
  /** Whether input i was given (not '' and not past the end). */
  has(i: number): boolean;
  /** The i-th input of any kind; fails if absent. */
  value(i: number): AnyValue;
  /** The i-th input as a sequence; fails if absent or of another kind. */
  sequence(i: number): SequenceValue;
  /** The i-th input as an optional; fails if absent or of another kind. */
  optional(i: number): OptionalValue;
  /** Evaluates a subgraph (If/Loop/Scan bodies) with this graph's values as its outer scope. */
  runGraph(g: GraphProto, inputs: readonly AnyValue[], what: string): Promise<AnyValue[]>;
  /** Reads a TensorProto (e.g. a Constant's value) relative to the model's directory. */
  readTensor(t: TensorProto): HostArray;
  /** Throws an error naming the node, its op type and opset, with `msg` saying what is supported. */
  fail(msg: string): never;
}

export type Build = (ctx: OpContext, inputs: readonly (Value | undefined)[]) => (Value | undefined)[] | Promise<(Value | undefined)[]>;
/** A builder that takes and gives values of any kind (sequences, optionals). */
export type AnyBuild = (ctx: OpContext, inputs: readonly (AnyValue | undefined)[]) => (AnyValue | undefined)[] | Promise<(AnyValue | undefined)[]>;

interface Entry { readonly since: number; readonly build: AnyBuild }
const table = new Map<string, Entry[]>();
const key = (domain: string, opType: string): string => `${domain === 'ai.onnx' ? '' : domain}::${opType}`;

function add(opType: string, domain: string, list: readonly (readonly [number, AnyBuild])[]): void {
  const k = key(domain, opType);
  const entries = table.get(k) ?? [];
  for (const [s, b] of list) {
    if (entries.some((e) => e.since === s)) throw new Error(`onnx registry: ${opType} since opset ${s} is registered twice`);
    entries.push({ since: s, build: b });
  }
  entries.sort((a, b) => a.since - b.since);
  table.set(k, entries);
}

/** A tensor op's builder behind the check that every input given is a tensor. */
const tensorsOnly = (build: Build): AnyBuild => (ctx, inputs) => {
  inputs.forEach((v, i) => {
    if (v !== undefined && !isTensorValue(v)) ctx.fail(`input ${i} (${JSON.stringify(ctx.node.inputs[i] ?? '')}) is ${kindOf(v)}, expected a tensor`);
  });
  return build(ctx, inputs as readonly (Value | undefined)[]);
};

/**
 * Registers builders: `register(op, since, build)` for one, `register(op, [[since, build], …])`
 * for several. Registering the same (op, domain, since) twice is an error: one op in one place.
 */
export function register(opType: string, since: number | readonly (readonly [number, Build])[], build?: Build, opts: { domain?: string } = {}): void {
  const list = typeof since === 'number' ? [[since, build!] as const] : since;
  add(opType, opts.domain ?? '', list.map(([s, b]) => [s, tensorsOnly(b)] as const));
}

/** `register` for a builder whose inputs and outputs may be sequences and optionals. */
export function registerAny(opType: string, since: number | readonly (readonly [number, AnyBuild])[], build?: AnyBuild, opts: { domain?: string } = {}): void {
  add(opType, opts.domain ?? '', typeof since === 'number' ? [[since, build!] as const] : since);
}

/** The builder for an op at an opset, or a message saying what exists. */
export function resolve(opType: string, domain: string, opset: number): AnyBuild | string {
  const entries = table.get(key(domain, opType));
  if (!entries) return `op ${opType}${domain ? ` (domain ${domain})` : ''} is not implemented`;
  let found: Entry | undefined;
  for (const e of entries) if (e.since <= opset) found = e;
  if (!found) return `${opType} is implemented from opset ${entries[0]!.since}, not ${opset}`;
  return found.build;
}

/** The registered op types, for `born info` and error messages. */
export const registeredOps = (): string[] => [...table.keys()].map((k) => k.replace(/^::/, '')).sort();
