/**
 * An imported model's initializers as a state dict, with nn.Module's stateDict()/loadStateDict()
 * contract (src/nn/module.ts): the same names the ONNX file gives them, live tensors out,
 * values copied in place (so tensors a caller holds from parameters() see the new values).
 */
import { isFloat, type DType } from '../graph/dtype.js';
import { DTypeError, fmt, ShapeError } from '../graph/errors.js';
import type { DeviceName } from '../graph/node.js';
import type { LoadResult } from '../nn/module.js';
import { assignAll } from '../tensor/assign.js';
import { isPlainObject, options } from '../tensor/args.js';
import { Tensor } from '../tensor/tensor.js';
import { isHost, toTensor } from './host.js';
import type { Value } from './ops/registry.js';

const kind = (d: DType): string => (d === 'bool' ? 'bool' : isFloat(d) ? 'floating-point' : 'integer');

/** The initializers by name as tensors (a host-kept integer one is uploaded on each call: the graph keeps reading the host value). */
export function stateDictOf(inits: ReadonlyMap<string, Value>, device: DeviceName | undefined): Record<string, Tensor> {
  return Object.fromEntries([...inits].map(([k, v]) => [k, isHost(v) ? toTensor(v, device) : v]));
}

/**
 * Copies `sd` into the initializers by name (cast to each one's dtype), in one schedule. Strict
 * (the default): a missing or unexpected name is an error; shape and dtype-kind mismatches are
 * errors either way, listing every problem, and nothing is loaded.
 */
export function loadStateDictInto(inits: Map<string, Value>, sd: Record<string, Tensor>, opts: { strict?: boolean } | undefined,
  device: DeviceName | undefined): LoadResult {
  const strict = options<{ strict?: boolean }>('loadStateDict', opts, ['strict']).strict ?? true;
  if (!isPlainObject(sd)) throw new TypeError('onnx model.loadStateDict: expected a state dict (an object of tensors by name), as stateDict() or born.load() returns');
  const missingKeys = [...inits.keys()].filter((k) => !(k in sd));
  const unexpectedKeys = Object.keys(sd).filter((k) => !inits.has(k));
  const problems: string[] = [];
  const writes: [Tensor, Tensor][] = [];
  const replaced: [string, Tensor][] = [];
  for (const [k, cur] of inits) {
    const v = sd[k];
    if (v === undefined) continue;
    if (!(v instanceof Tensor)) { problems.push(`'${k}' is not a tensor`); continue; }
    if (v.shape.length !== cur.shape.length || v.shape.some((d, i) => d !== cur.shape[i])) {
      problems.push(`'${k}' has shape ${fmt(v.shape)} in the state dict but ${fmt(cur.shape)} in the model`);
    } else if (kind(v.dtype) !== kind(cur.dtype)) {
      problems.push(`'${k}' is ${v.dtype} in the state dict but ${cur.dtype} in the model (a ${kind(v.dtype)} value cannot load into a ${kind(cur.dtype)} initializer)`);
    } else if (isHost(cur)) {
      // Host-kept shape-sized integers: the value becomes a tensor of its own (builders read it back when they need it on the host).
      replaced.push([k, v.to(cur.dtype).clone()]);
    } else writes.push([cur, v.to(cur.dtype)]);
  }
  if (strict && missingKeys.length) problems.push(`missing: ${missingKeys.join(', ')}`);
  if (strict && unexpectedKeys.length) problems.push(`unexpected: ${unexpectedKeys.join(', ')}`);
  if (problems.length) {
    const msg = `onnx model.loadStateDict: cannot load: ${problems.join('; ')}` +
      (strict && (missingKeys.length || unexpectedKeys.length) ? ' (names differ; pass { strict: false } to load the names both have)' : '');
    const all = (re: RegExp): boolean => problems.every((p) => re.test(p));
    throw all(/ has shape /) ? new ShapeError(msg) : all(/ in the state dict but \w+ in the model/) ? new DTypeError(msg) : new Error(msg);
  }
  for (const [k, t] of replaced) inits.set(k, device !== undefined && t.device !== device ? t.to(device) : t);
  assignAll(writes).catch(() => {}); // a failure surfaces when a parameter is read
  return { missingKeys, unexpectedKeys };
}
