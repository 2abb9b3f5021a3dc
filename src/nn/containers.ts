/**
 * Containers: Sequential, ModuleList and ModuleDict. Their children are named by position or
 * key ('0.weight', 'layers.0.weight', 'heads.cls.weight') exactly as PyTorch names them, so a
 * model's state dict round-trips through born.save / born.load and loads PyTorch checkpoints.
 */
import { int, isPlainObject } from '../tensor/args.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type AnyModule } from './module.js';

const describe = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'object'}` : typeof v);

function checkModule(op: string, m: unknown): AnyModule {
  if (!(m instanceof Module)) throw new TypeError(`${op}: expected an nn.Module, got ${describe(m)}`);
  return m;
}

/** An index in [-n, n) as a position in [0, n); `allowEnd` also accepts n (insert at the end). */
function position(op: string, i: unknown, n: number, allowEnd = false): number {
  const k = int(op, 'index', i);
  const p = k < 0 ? k + n : k;
  if (p < 0 || p > n || (p === n && !allowEnd)) throw new RangeError(`${op}: index ${k} is out of range for a list of ${n} modules (valid: ${-n} to ${allowEnd ? n : n - 1})`);
  return p;
}

/**
 * Holds modules in a list, registered as children '0', '1', … (PyTorch's nn.ModuleList). It
 * has no forward: iterate it in yours.
 *
 * @example this.layers = nn.ModuleList([nn.Linear(4, 8), nn.Linear(8, 2)]);  // keys 'layers.0.weight', …
 * for (const layer of this.layers) x = layer.forward(x);
 */
export class ModuleList<M extends AnyModule = Module> extends Module {
  #items: M[] = [];
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }
  /** How many modules the list holds. */
  get length(): number { return this.#items.length; }
  /** The module at `i` (negative counts from the end); out of range is a RangeError. */
  at(i: number): M { return this.#items[position('ModuleList.at', i, this.#items.length)]!; }
  /** The module at `i`, as at(i) (PyTorch's `layers[i]`). */
  get(i: number): M { return this.#items[position('ModuleList.get', i, this.#items.length)]!; }
  /** Replaces the module at `i` (PyTorch's `layers[i] = m`). */
  set(i: number, m: M): this { this.#items[position('ModuleList.set', i, this.#items.length)] = checkModule('ModuleList.set', m) as M; return this; }
  /** Adds one module at the end; returns the list. */
  append(m: M): this { this.#items.push(checkModule('ModuleList.append', m) as M); return this; }
  /** Adds modules at the end; returns the list. */
  push(...ms: M[]): this { for (const m of ms) this.append(m); return this; }
  /** Adds every module of an iterable (an array, another ModuleList) at the end. */
  extend(ms: Iterable<M>): this {
    if (ms === null || typeof (ms as Iterable<M>)[Symbol.iterator] !== 'function') throw new TypeError(`ModuleList.extend: expected an iterable of modules, got ${describe(ms)}`);
    for (const m of [...ms]) this.append(m);
    return this;
  }
  /** Inserts `m` before position `i` (PyTorch's insert; `i` may equal length). */
  insert(i: number, m: M): this {
    this.#items.splice(position('ModuleList.insert', i, this.#items.length, true), 0, checkModule('ModuleList.insert', m) as M);
    return this;
  }
  /** Removes and returns the module at `i` (default the last). */
  pop(i = -1): M { return this.#items.splice(position('ModuleList.pop', i, this.#items.length), 1)[0]!; }
  /** A new ModuleList of the modules in [start, end), as PyTorch's slice `layers[a:b]` (the same module objects). */
  slice(start?: number, end?: number): ModuleList<M> { return new ModuleList(this.#items.slice(start, end)); }
  /** Iterates the modules in order. */
  [Symbol.iterator](): Iterator<M> { return this.#items[Symbol.iterator](); }
  override namedChildren(): [string, AnyModule][] { return this.#items.map((m, i) => [String(i), m]); }
  forward(): Tensor {
    throw new Error('ModuleList has no forward: iterate its modules in your own forward (for (const m of this.layers) x = m.forward(x))');
  }
}

/**
 * Holds modules by name, registered as children under their keys, in insertion order
 * (PyTorch's nn.ModuleDict). Iterating it yields the keys, as in PyTorch; entries() yields
 * [key, module] pairs. It has no forward.
 *
 * @example this.heads = nn.ModuleDict({ cls: nn.Linear(8, 3), box: nn.Linear(8, 4) });  // 'heads.cls.weight', …
 * const y = this.heads.get('cls').forward(h);
 */
export class ModuleDict<M extends AnyModule = Module> extends Module {
  #items = new Map<string, M>();
  constructor(modules: Record<string, M> | Iterable<readonly [string, M]> = {}) {
    super();
    this.update(modules);
  }
  /** How many modules the dict holds. */
  get length(): number { return this.#items.size; }
  /** The module under `key`; a missing key is an Error naming the keys there are. */
  get(key: string): M {
    const m = this.#items.get(key);
    if (!m) throw new Error(`ModuleDict.get: no module named '${String(key)}' (keys: ${[...this.#items.keys()].join(', ') || 'none'})`);
    return m;
  }
  /** Adds or replaces the module under `key` (PyTorch's `heads[key] = m`). Keys are non-empty and hold no '.'. */
  set(key: string, m: M): this {
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new TypeError(`ModuleDict.set: a key must be a non-empty string without '.', got ${typeof key === 'string' ? `'${key}'` : describe(key)}`);
    }
    this.#items.set(key, checkModule(`ModuleDict.set('${key}')`, m) as M);
    return this;
  }
  /** Whether a module is held under `key` (PyTorch's `key in heads`). */
  has(key: string): boolean { return this.#items.has(key); }
  /** Removes and returns the module under `key`. */
  pop(key: string): M { const m = this.get(key); this.#items.delete(key); return m; }
  /** Removes every module. */
  clear(): void { this.#items.clear(); }
  /** Adds every [key, module] of an object, a Map, another ModuleDict or an iterable of pairs. */
  update(modules: Record<string, M> | Iterable<readonly [string, M]>): this {
    const pairs: Iterable<readonly [string, M]> = modules instanceof ModuleDict ? modules.entries()
      : isPlainObject(modules) ? Object.entries(modules as Record<string, M>) : modules as Iterable<readonly [string, M]>;
    if (pairs === null || typeof (pairs as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError(`ModuleDict.update: expected an object of modules or [key, module] pairs, got ${describe(modules)}`);
    for (const [k, m] of pairs) this.set(k, m);
    return this;
  }
  /** The keys, in insertion order. */
  keys(): IterableIterator<string> { return this.#items.keys(); }
  /** The modules, in insertion order. */
  values(): IterableIterator<M> { return this.#items.values(); }
  /** The [key, module] pairs, in insertion order. */
  entries(): IterableIterator<[string, M]> { return this.#items.entries(); }
  /** PyTorch's items(): the [key, module] pairs. */
  items(): IterableIterator<[string, M]> { return this.#items.entries(); }
  /** Iterates the keys, as iterating a PyTorch ModuleDict does. */
  [Symbol.iterator](): Iterator<string> { return this.#items.keys(); }
  override namedChildren(): [string, AnyModule][] { return [...this.#items]; }
  forward(): Tensor {
    throw new Error("ModuleDict has no forward: call the modules it holds in your own forward (this.heads.get('name').forward(x))");
  }
}

/**
 * Runs modules in order, each on the previous one's output; children are named by position
 * ('0.weight') or, given one object of modules (PyTorch's OrderedDict form), by its keys.
 *
 * @example nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
 */
/**
 * What Sequential chains: a module whose forward takes the previous output as its first argument
 * (further arguments optional, as a TransformerEncoderLayer's options) and returns one tensor.
 */
export type SequentialLayer = Module<[x: Tensor, ...rest: never[]], Tensor>;

export class Sequential extends Module {
  #items: [string, SequentialLayer][];
  constructor(...layers: SequentialLayer[] | [Record<string, SequentialLayer>]) {
    super();
    const first = layers[0];
    const named = layers.length === 1 && isPlainObject(first) ? Object.entries(first) : (layers as unknown[]).map((m, i): [string, unknown] => [String(i), m]);
    this.#items = named.map(([k, m]) => [k, checkModule(`Sequential: argument ${k}`, m) as SequentialLayer]);
  }
  /** The modules, in order. */
  get layers(): SequentialLayer[] { return this.#items.map(([, m]) => m); }
  /** How many modules run. */
  get length(): number { return this.#items.length; }
  /** The module at `i` (negative counts from the end). */
  at(i: number): SequentialLayer { return this.#items[position('Sequential.at', i, this.#items.length)]![1]; }
  /** The module at `i`, as at(i). */
  get(i: number): SequentialLayer { return this.at(i); }
  /** Adds a module at the end, named by its position; returns this. */
  append(m: SequentialLayer): this { this.#items.push([String(this.#items.length), checkModule('Sequential.append', m) as SequentialLayer]); return this; }
  /** Iterates the modules in order. */
  [Symbol.iterator](): Iterator<SequentialLayer> { return this.layers[Symbol.iterator](); }
  override namedChildren(): [string, AnyModule][] { return [...this.#items]; }
  forward(x: Tensor): Tensor {
    return this.#items.reduce((h, [, m]) => m.forward(h), x);
  }
}
