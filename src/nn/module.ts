/**
 * nn.Module: parameters, buffers and children found by walking the module's own fields, named
 * as PyTorch names them ('0.weight', 'bn.running_mean', 'layers.0.weight'), so PyTorch state
 * dicts load unchanged.
 */
import { DeviceError, DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { isFloat } from '../graph/dtype.js';
import type { DType } from '../graph/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { deferInit, realize } from '../scheduler/realize.js';
import { assignAll } from '../tensor/assign.js';
import { moveLeaf } from '../tensor/transfer.js';
import type { DeviceName } from '../graph/node.js';
import { isPlainObject, options } from '../tensor/args.js';
import { Parameter } from './parameter.js';
import { moduleRepr } from './repr.js';

/**
 * A tensor that is a learnable parameter: an nn.Parameter sharing `t`'s node, requiresGrad,
 * found by Module.parameters(). Its value is computed now (in the background), so every
 * forward reads the same stored float32 numbers instead of re-deriving an initialiser.
 */
export function parameter<D extends DType>(t: Tensor<D>): Parameter<D> {
  return t instanceof Parameter && t.requiresGrad ? t : new Parameter(t);
}

const isModule = (v: unknown): v is AnyModule => v instanceof Module;
/** A field value that is a parameter: an nn.Parameter, or a tensor marked requiresGrad_ as a leaf. */
const isParam = (v: unknown): v is Tensor => v instanceof Parameter || (v instanceof Tensor && v.node.gradLeaf);

/** What loadStateDict reports, as PyTorch's load_state_dict returns it. */
export interface LoadResult { missingKeys: string[]; unexpectedKeys: string[] }

const kind = (d: DType): string => (d === 'bool' ? 'bool' : isFloat(d) ? 'floating-point' : 'integer');

/** Any module, whatever its forward takes and returns (the type of children and containers' items). */
export type AnyModule = Module<never, unknown>;

/**
 * A layer or a model. `I` and `O` are forward's parameters and result: one tensor in and one out
 * unless a module says otherwise (LSTM returns [output, [h, c]], MultiheadAttention takes query,
 * key, value and options), as PyTorch's modules return tuples.
 */
export abstract class Module<I extends unknown[] = Tensor[], O = Tensor> {
  training = true;
  /** Non-learnable state saved in the state dict (BatchNorm's running statistics), by PyTorch name. */
  protected readonly buffers = new Map<string, Tensor>();

  abstract forward(...inputs: I): O;

  /** `t`'s value is computed by the first schedule that reads it, as a parameter's (nn.Parameter). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    deferInit(t);
    this.buffers.set(name, t);
    return t;
  }

  /**
   * Child modules in field order, named as PyTorch names them: a field `fooBar` is 'foo_bar';
   * an array of modules in field `layers` is 'layers.0', 'layers.1', … and a plain object of
   * modules in `heads` is 'heads.<key>' (the keys PyTorch gives the equivalent ModuleList /
   * ModuleDict), nested ones likewise ('blocks.0.1'). Containers override this.
   */
  namedChildren(): [string, AnyModule][] {
    return fields(this, isModule);
  }

  /** The child modules, each once. */
  children(): AnyModule[] {
    return [...new Set(this.namedChildren().map(([, m]) => m))];
  }

  /**
   * This module and every descendant, depth first, with their dotted names ('' for this one).
   * A module held twice (under two names) is listed once, under its first name, as in PyTorch.
   */
  namedModules(prefix = ''): [string, AnyModule][] {
    const all: [string, AnyModule][] = [];
    const walk = (m: AnyModule, p: string): void => {
      all.push([p, m]);
      for (const [name, child] of m.namedChildren()) walk(child, p ? `${p}.${name}` : name);
    };
    walk(this, prefix);
    return unique(all);
  }

  /** This module and every descendant, each once. */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Calls `fn` on every descendant and then on this module (PyTorch's order); returns this. */
  apply(fn: (m: AnyModule) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** This module's own parameters (not its children's), by PyTorch name. */
  protected ownParameters(): [string, Tensor][] {
    return fields(this, isParam);
  }

  /**
   * Every parameter with its dotted name. A parameter shared by two modules (tied weights) is
   * listed once, under its first name, as PyTorch's named_parameters, so an optimizer steps it
   * once; stateDict() holds it under every name.
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    return unique(this.walk(prefix, (m) => m.ownParameters()));
  }

  /** Every parameter, each once (what an optimizer takes). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name; a shared one once, as namedParameters. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    return unique(this.walk(prefix, (m) => [...m.buffers]));
  }

  /** `own(m)` of this module and every descendant, with dotted names, in PyTorch's order. */
  private walk(prefix: string, own: (m: AnyModule) => [string, Tensor][]): [string, Tensor][] {
    const out = own(this).map(([k, t]): [string, Tensor] => [prefix + k, t]);
    for (const [name, child] of this.namedChildren()) out.push(...child.walk(`${prefix}${name}.`, own));
    return out;
  }

  train(mode = true): this {
    this.training = mode;
    for (const c of this.children()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /**
   * Every parameter and buffer by PyTorch name, in PyTorch's order (a module's own parameters,
   * then its buffers, then each child's). Two entries with one name are an error (they would
   * overwrite each other).
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of this.walk('', (m) => [...m.ownParameters(), ...m.buffers])) {
      if (k in out) throw new Error(`stateDict: two tensors are named '${k}' in ${this.constructor.name}; rename one field`);
      out[k] = t;
    }
    return out;
  }

  /**
   * Copies values in by name (cast to the model's dtypes), in one schedule. Strict (the
   * default): a key of the model missing from `sd`, a key of `sd` the model lacks, a shape
   * mismatch or a dtype of another kind (a float into an integer buffer, …) is an Error listing
   * every problem, and nothing is loaded. `{ strict: false }` loads the keys both have and
   * returns the others; shape and dtype-kind mismatches stay errors, as in PyTorch.
   */
  loadStateDict(sd: Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = options<{ strict?: boolean }>('loadStateDict', opts, ['strict']).strict ?? true;
    if (!isPlainObject(sd)) throw new TypeError('loadStateDict: expected a state dict (an object of tensors by name), as stateDict() or born.load() returns');
    const own = new Map(Object.entries(this.stateDict()));
    const missingKeys = [...own.keys()].filter((k) => !(k in sd));
    const unexpectedKeys = Object.keys(sd).filter((k) => !own.has(k));
    const problems: string[] = [];
    // By target: a tensor tied under two names is written once.
    const writes = new Map<Tensor, Tensor>();
    for (const [k, t] of own) {
      const v = sd[k];
      if (v === undefined) continue;
      if (!(v instanceof Tensor)) { problems.push(`'${k}' is not a tensor`); continue; }
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        problems.push(`'${k}' has shape ${fmt(v.shape)} in the state dict but ${fmt(t.shape)} in the model`);
      } else if (kind(v.dtype) !== kind(t.dtype)) {
        problems.push(`'${k}' is ${v.dtype} in the state dict but ${t.dtype} in the model (a ${kind(v.dtype)} value cannot load into a ${kind(t.dtype)} tensor)`);
      } else writes.set(t, v.to(t.dtype));
    }
    if (strict && missingKeys.length) problems.push(`missing: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected: ${unexpectedKeys.join(', ')}`);
    if (problems.length) {
      const msg = `loadStateDict: cannot load into ${this.constructor.name}: ${problems.join('; ')}` +
        (strict && (missingKeys.length || unexpectedKeys.length) ? ' (keys differ; pass { strict: false } to load the keys both have)' : '');
      const all = (re: RegExp): boolean => problems.every((p) => re.test(p));
      throw all(/ has shape /) ? new ShapeError(msg) : all(/ in the state dict but \w+ in the model/) ? new DTypeError(msg) : new Error(msg);
    }
    // Copied into the model's own buffers in one schedule (as PyTorch copies), so training
    // in place never writes into the tensors of the state dict.
    assignAll([...writes]).catch(() => {}); // a failure surfaces when a parameter is read
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Moves every parameter and buffer to `device` in place (PyTorch's module.to(device)): the
   * tensors the model and its optimizers hold are the same objects, now on the other device.
   */
  to(device: DeviceName): this {
    if (device !== 'cpu' && device !== 'webgpu') throw new DeviceError(`to: unknown device ${JSON.stringify(device)} (valid: cpu, webgpu)`);
    for (const p of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) moveLeaf(p, device);
    return this;
  }

  /** Computes every parameter and buffer (e.g. after initialisation), in one schedule. */
  async realize(): Promise<void> {
    await realize([...this.parameters(), ...this.namedBuffers().map(([, b]) => b)].map((t) => t.node));
  }

  /**
   * The settings shown between the parentheses when the module prints
   * (`in_features=784, out_features=256, bias=True`), as PyTorch's extra_repr. The default
   * lists the module's own number, boolean and string fields (and those of an `opts` field)
   * in snake_case; a module overrides it to print what PyTorch prints.
   */
  extraRepr(): string {
    const parts: string[] = [];
    const show = (k: string, v: unknown): void => {
      const s = pyValue(v);
      if (s !== undefined) parts.push(`${fieldName(k)}=${s}`);
    };
    for (const [k, v] of Object.entries(this)) {
      if (k === 'training') continue;
      if (k === 'opts' && isPlainObject(v)) for (const [ok, ov] of Object.entries(v)) show(ok, ov);
      else show(k, v);
    }
    return parts.join(', ');
  }

  /** The module tree as PyTorch prints it, then the number of parameters (all, and trainable). */
  toString(): string {
    return moduleRepr(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The first entry of each distinct value. */
function unique<T>(entries: [string, T][]): [string, T][] {
  const seen = new Set<T>();
  return entries.filter(([, v]) => (seen.has(v) ? false : (seen.add(v), true)));
}

/** A number, boolean, string or list of numbers as Python prints it; undefined for anything else. */
function pyValue(v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v) && v.length && v.every((e) => typeof e === 'number')) return `(${v.join(', ')}${v.length === 1 ? ',' : ''})`;
  return undefined;
}

/**
 * The values passing `is` inside an array or plain-object field, nested ones included, with
 * their dotted paths ('0', 'encoder.1'): the keys of the equivalent ModuleList / ModuleDict.
 * Other values beside them (numbers, options, functions) are skipped, as they hold no state.
 */
function collection<T>(v: unknown, is: (e: unknown) => e is T, seen = new Set<unknown>()): [string, T][] {
  if (!(Array.isArray(v) || isPlainObject(v)) || seen.has(v)) return [];
  seen.add(v);
  const out: [string, T][] = [];
  for (const [k, e] of Array.isArray(v) ? v.map((e, i): [string, unknown] => [String(i), e]) : Object.entries(v)) {
    if (is(e)) out.push([k, e]);
    else for (const [kk, ee] of collection(e, is, seen)) out.push([`${k}.${kk}`, ee]);
  }
  return out;
}

/** The values passing `is` in m's fields, directly or inside a collection field, by PyTorch name. */
function fields<T>(m: object, is: (e: unknown) => e is T): [string, T][] {
  const out: [string, T][] = [];
  for (const [key, v] of Object.entries(m)) {
    const name = fieldName(key);
    if (is(v)) out.push([name, v]);
    else for (const [k, e] of collection(v, is)) out.push([`${name}.${k}`, e]);
  }
  return out;
}

/** Fields are camelCase; state-dict keys are PyTorch's snake_case. */
const fieldName = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
