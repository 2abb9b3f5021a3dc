/**
 * Recurrent layers as torch.nn.RNN, LSTM and GRU: multi-layer, bidirectional, batchFirst, with
 * PyTorch's parameter names (weight_ih_l0, bias_hh_l1_reverse, …), layouts and gate orders, so
 * PyTorch weights load unchanged.
 *
 * Cost: per layer and direction, the input projection of every time step is one matmul; the
 * recurrence is then a loop of small lazy ops per step (one [N, H] × [H, G·H] matmul and the
 * fused gate arithmetic), so a sequence of T steps records O(T) nodes and runs O(T) small kernels.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { flag, int, isPlainObject, options } from '../tensor/args.js';
import { cat, stack } from '../tensor/join.js';
import type { Tensor } from '../tensor/tensor.js';
import { dropoutOf, probability, project } from './attention.js';
import { uniformParam } from './init.js';
import { Module } from './module.js';

export interface RNNBaseOptions {
  /** Stacked layers (default 1); each layer after the first reads the previous one's output. */
  numLayers?: number;
  /** Biases bias_ih and bias_hh (default true). */
  bias?: boolean;
  /** Input and output are [N, T, features] instead of [T, N, features] (default false); h_n is never batch-first. */
  batchFirst?: boolean;
  /** Dropout on the output of every layer but the last, while training (default 0). */
  dropout?: number;
  /** A second, reversed pass per layer; outputs are concatenated (default false). */
  bidirectional?: boolean;
}
export interface LSTMOptions extends RNNBaseOptions {
  /** Projects each hidden state to this size with weight_hr (0 = none, the default; must be below hiddenSize). */
  projSize?: number;
}
export interface RNNOptions extends RNNBaseOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

type Cell = 'tanh' | 'relu' | 'lstm' | 'gru';
const GATES: Record<Cell, number> = { tanh: 1, relu: 1, lstm: 4, gru: 3 };
const KEYS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional'] as const;

/** One direction of one layer: its weights, in PyTorch's order [w_ih, w_hh, b_ih?, b_hh?]. */
interface LayerWeights { wIh: Tensor; wHh: Tensor; bIh?: Tensor; bHh?: Tensor; wHr?: Tensor }

/** The recurrent state of one layer and direction: [h] or, for LSTM, [h, c]; null before the first step without hx. */
type State = Tensor[] | null;

abstract class RNNBase<I extends unknown[], O> extends Module<I, O> {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** LSTM's projection size (0: none). */
  readonly projSize: number;
  // Private (#): the module walk sees the weights only as the named fields above.
  readonly #layers: LayerWeights[] = [];

  constructor(private readonly op: string, private readonly cell: Cell, readonly inputSize: number, readonly hiddenSize: number,
    layersOrOpts: number | RNNOptions | LSTMOptions | undefined, maybeOpts: RNNOptions | LSTMOptions | undefined, extra: readonly string[]) {
    super();
    const positional = typeof layersOrOpts === 'number';
    const o = options<RNNOptions & LSTMOptions>(op, positional ? maybeOpts : layersOrOpts, [...KEYS, ...extra] as (keyof RNNOptions)[]);
    if (!positional && maybeOpts !== undefined) throw new TypeError(`${op}: expected (inputSize, hiddenSize, numLayers?, options?), got two options objects`);
    int(op, 'inputSize', inputSize);
    int(op, 'hiddenSize', hiddenSize);
    this.numLayers = int(op, 'numLayers', positional ? layersOrOpts : o.numLayers ?? 1);
    if (inputSize < 1 || hiddenSize < 1 || this.numLayers < 1) {
      throw new ShapeError(`${op}(${inputSize}, ${hiddenSize}): inputSize, hiddenSize and numLayers (${this.numLayers}) must be positive`);
    }
    this.bias = flag(op, 'bias', o.bias) ?? true;
    this.batchFirst = flag(op, 'batchFirst', o.batchFirst) ?? false;
    this.dropout = probability(op, 'dropout', o.dropout);
    this.bidirectional = flag(op, 'bidirectional', o.bidirectional) ?? false;
    this.projSize = o.projSize === undefined ? 0 : int(op, 'projSize', o.projSize);
    if (this.projSize < 0 || this.projSize >= hiddenSize) throw new ShapeError(`${op}: projSize must be 0 (none) or between 1 and hiddenSize - 1 = ${hiddenSize - 1}, got ${this.projSize}`);
    const out = this.projSize || hiddenSize; // the size of h
    const g = GATES[cell] * hiddenSize, k = 1 / Math.sqrt(hiddenSize), dirs = this.bidirectional ? 2 : 1;
    // Fields named as PyTorch's parameters, created in PyTorch's order, so the state dict matches.
    const self = this as unknown as Record<string, Tensor>;
    for (let layer = 0; layer < this.numLayers; layer++) {
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${layer}${d ? '_reverse' : ''}`;
        const inp = layer === 0 ? inputSize : out * dirs;
        self[`weight_ih${sfx}`] = uniformParam([g, inp], k);
        self[`weight_hh${sfx}`] = uniformParam([g, out], k);
        if (this.bias) {
          self[`bias_ih${sfx}`] = uniformParam([g], k);
          self[`bias_hh${sfx}`] = uniformParam([g], k);
        }
        if (this.projSize) self[`weight_hr${sfx}`] = uniformParam([this.projSize, hiddenSize], k);
        this.#layers.push({ wIh: self[`weight_ih${sfx}`]!, wHh: self[`weight_hh${sfx}`]!, bIh: self[`bias_ih${sfx}`], bHh: self[`bias_hh${sfx}`], wHr: self[`weight_hr${sfx}`] });
      }
    }
  }

  /** The parameters per layer and direction, as PyTorch's all_weights: [[w_ih, w_hh, b_ih, b_hh, w_hr], …]. */
  get allWeights(): Tensor[][] {
    return this.#layers.map((w) => [w.wIh, w.wHh, ...(w.bIh && w.bHh ? [w.bIh, w.bHh] : []), ...(w.wHr ? [w.wHr] : [])]);
  }

  private get dirs(): number { return this.bidirectional ? 2 : 1; }

  /** Checks the input and reads it as [T, N, inputSize]; `batched` is false for a [T, inputSize] input. */
  protected sequence(input: Tensor): { x: Tensor; batched: boolean } {
    const ok = (input.ndim === 3 || input.ndim === 2) && input.shape[input.ndim - 1] === this.inputSize && input.shape[this.batchFirst && input.ndim === 3 ? 1 : 0]! > 0;
    if (!ok) {
      throw new ShapeError(`${this.op}(${this.inputSize}, ${this.hiddenSize}): expected input ${this.batchFirst ? '[N, T' : '[T, N'}, ${this.inputSize}] ` +
        `or [T, ${this.inputSize}] unbatched (T > 0), got ${fmt(input.shape)}`);
    }
    if (input.ndim === 2) return { x: input.unsqueeze(1), batched: false };
    return { x: this.batchFirst ? input.transpose(0, 1) : input, batched: true };
  }

  /**
   * An initial state tensor as [numLayers·dirs, N, size] ([numLayers·dirs, size] unbatched), checked;
   * null when absent. size is hiddenSize, or projSize for an LSTM's h0 with a projection.
   */
  protected initial(name: string, t: Tensor | null | undefined, n: number, batched: boolean, size = this.hiddenSize): Tensor | null {
    if (t === undefined || t === null) return null;
    const want = batched ? [this.numLayers * this.dirs, n, size] : [this.numLayers * this.dirs, size];
    if (t.ndim !== want.length || t.shape.some((d, i) => d !== want[i])) {
      const sizeName = size === this.hiddenSize ? 'hiddenSize' : 'projSize';
      throw new ShapeError(`${this.op}: ${name} should be [numLayers·numDirections, ${batched ? 'N, ' : ''}${sizeName}] = ${fmt(want)}, got ${fmt(t.shape)}`);
    }
    return batched ? t : t.unsqueeze(1);
  }

  /**
   * Runs every layer and direction. `hx` holds the initial states as [L·D, N, H] tensors ([h] or
   * [h, c]), or null for zeros. Returns the output [T, N, D·H] and the final states per kind, each
   * [L·D, N, H].
   */
  protected run(x: Tensor, hx: (Tensor | null)[]): { output: Tensor; finals: Tensor[] } {
    const T = x.shape[0]!, n = x.shape[1]!, dirs = this.dirs;
    const finals: Tensor[][] = hx.map(() => []);
    let layerInput = x;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const idx = layer * dirs + d;
        const w = this.#layers[idx]!;
        // The input projection of all steps at once: one matmul per layer and direction.
        const xp = project(layerInput, w.wIh, w.bIh);
        let state: State = hx[0] ? hx.map((h) => h!.narrow(0, idx, 1).reshape([n, h!.shape[2]!])) : null;
        const steps: Tensor[] = new Array<Tensor>(T);
        for (let i = 0; i < T; i++) {
          const t = d ? T - 1 - i : i;
          state = this.step(xp.narrow(0, t, 1).reshape([n, xp.shape[2]!]), state, w);
          steps[t] = state[0]!;
        }
        outs.push(stack(steps, 0));
        state!.forEach((s, j) => finals[j]!.push(s));
      }
      layerInput = outs.length === 1 ? outs[0]! : cat(outs, 2);
      if (this.training && this.dropout > 0 && layer < this.numLayers - 1) layerInput = dropoutOf(layerInput, this.dropout);
    }
    return { output: layerInput, finals: finals.map((f) => stack(f, 0)) };
  }

  /** One time step: xp is this step's input projection [N, G·H] (b_ih included). */
  private step(xp: Tensor, state: State, w: LayerWeights): Tensor[] {
    const H = this.hiddenSize;
    const h = state?.[0] ?? null;
    // h Wₕₕᵀ + b_hh; the first step without hx has h = 0, leaving b_hh alone.
    let hp: Tensor | null = h ? h.matmul(w.wHh.T) : null;
    if (w.bHh) hp = hp ? hp.add(w.bHh) : w.bHh;
    const gate = (t: Tensor | null, i: number): Tensor | null => (t ? t.narrow(-1, i * H, H) : null);
    const plus = (a: Tensor, b: Tensor | null): Tensor => (b ? a.add(b) : a);
    switch (this.cell) {
      case 'tanh': return [plus(xp, hp).tanh()];
      case 'relu': return [plus(xp, hp).relu()];
      case 'lstm': {
        // Gate order i, f, g, o, as PyTorch; c' = f c + i g, h' = o tanh(c').
        const all = plus(xp, hp);
        const [ig, fg, gg, og] = [0, 1, 2, 3].map((i) => all.narrow(-1, i * H, H)) as [Tensor, Tensor, Tensor, Tensor];
        const ic = ig.sigmoid().mul(gg.tanh());
        const c = state ? fg.sigmoid().mul(state[1]!).add(ic) : ic;
        const hNew = og.sigmoid().mul(c.tanh());
        return [w.wHr ? hNew.matmul(w.wHr.T) : hNew, c];
      }
      case 'gru': {
        // Gate order r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h.
        const r = plus(gate(xp, 0)!, gate(hp, 0)).sigmoid();
        const z = plus(gate(xp, 1)!, gate(hp, 1)).sigmoid();
        const hn = gate(hp, 2);
        const nn = plus(gate(xp, 2)!, hn ? r.mul(hn) : null).tanh();
        return [h ? nn.add(z.mul(h.sub(nn))) : nn.sub(z.mul(nn))];
      }
    }
  }
}

/** The output in the caller's layout: [T, N, D·H], [N, T, D·H] (batchFirst) or [T, D·H] (unbatched). */
function layout(output: Tensor, batched: boolean, batchFirst: boolean): Tensor {
  if (!batched) return output.squeeze(1);
  return batchFirst ? output.transpose(0, 1) : output;
}
const stateLayout = (t: Tensor, batched: boolean): Tensor => (batched ? t : t.squeeze(1));

/** Reads (inputSize, hiddenSize, numLayers?, options?) as PyTorch's positional or keyword forms. */
type Args<O> = [inputSize: number, hiddenSize: number, numLayersOrOptions?: number | O, options?: O];

/**
 * An Elman RNN, h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu), as torch.nn.RNN.
 * forward(input, h0?) → [output, h_n]; input [T, N, inputSize] ([N, T, …] batchFirst, or
 * [T, inputSize]); output [T, N, D·hiddenSize]; h0 and h_n [numLayers·D, N, hiddenSize]
 * (D = 2 when bidirectional). Init as PyTorch: every parameter U(-1/√hidden, 1/√hidden).
 */
export class RNN extends RNNBase<[input: Tensor, h0?: Tensor | null], [Tensor, Tensor]> {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(...[inputSize, hiddenSize, a, b]: Args<RNNOptions>) {
    const o = (typeof a === 'number' ? b : a) ?? {};
    const nl = isPlainObject(o) ? (o as RNNOptions).nonlinearity ?? 'tanh' : 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new TypeError(`RNN: nonlinearity must be 'tanh' or 'relu', got ${JSON.stringify(nl)}`);
    super('RNN', nl, inputSize, hiddenSize, a, b, ['nonlinearity']);
    this.nonlinearity = nl;
  }
  /** Example: `const [out, hN] = nn.RNN(4, 8).forward(x)`. */
  forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const { x, batched } = this.sequence(input);
    const { output, finals } = this.run(x, [this.initial('h0', h0, x.shape[1]!, batched)]);
    return [layout(output, batched, this.batchFirst), stateLayout(finals[0]!, batched)];
  }
}

/**
 * Long short-term memory, as torch.nn.LSTM (gates i, f, g, o). forward(input, [h0, c0]?) →
 * [output, [h_n, c_n]]; shapes as RNN, c like h. With projSize P, h = (o · tanh(c)) W_hrᵀ is
 * [.., P] (output [T, N, D·P], h0 / h_n [L·D, N, P]) while c stays hiddenSize.
 * Init U(-1/√hidden, 1/√hidden).
 */
export class LSTM extends RNNBase<[input: Tensor, hx?: readonly [Tensor, Tensor] | null], [Tensor, [Tensor, Tensor]]> {
  constructor(...[inputSize, hiddenSize, a, b]: Args<LSTMOptions>) {
    super('LSTM', 'lstm', inputSize, hiddenSize, a, b, ['projSize']);
  }
  /** Example: `const [out, [hN, cN]] = nn.LSTM(4, 8, { numLayers: 2 }).forward(x)`. */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const { x, batched } = this.sequence(input);
    if (hx !== undefined && hx !== null && (!Array.isArray(hx) || hx.length !== 2 || !hx[0] || !hx[1])) {
      throw new TypeError('LSTM: hx must be [h0, c0] (two tensors), as PyTorch\'s (h_0, c_0) tuple');
    }
    const n = x.shape[1]!;
    const { output, finals } = this.run(x, [this.initial('h0', hx?.[0], n, batched, this.projSize || this.hiddenSize), this.initial('c0', hx?.[1], n, batched)]);
    return [layout(output, batched, this.batchFirst), [stateLayout(finals[0]!, batched), stateLayout(finals[1]!, batched)]];
  }
}

/**
 * Gated recurrent unit, as torch.nn.GRU (gates r, z, n; n = tanh(W_in x + b_in + r (W_hn h + b_hn))).
 * forward(input, h0?) → [output, h_n]; shapes as RNN. Init U(-1/√hidden, 1/√hidden).
 */
export class GRU extends RNNBase<[input: Tensor, h0?: Tensor | null], [Tensor, Tensor]> {
  constructor(...[inputSize, hiddenSize, a, b]: Args<RNNBaseOptions>) {
    super('GRU', 'gru', inputSize, hiddenSize, a, b, []);
  }
  /** Example: `const [out, hN] = nn.GRU(4, 8, { bidirectional: true }).forward(x)`. */
  forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const { x, batched } = this.sequence(input);
    const { output, finals } = this.run(x, [this.initial('h0', h0, x.shape[1]!, batched)]);
    return [layout(output, batched, this.batchFirst), stateLayout(finals[0]!, batched)];
  }
}
