/**
 * Rotary position embeddings (RoPE): each pair of features of a query or key is rotated by an
 * angle position · θ^(-2i/d). Two pairings are in use: LLaMA / llama2.c rotate adjacent features
 * (x[2i], x[2i+1]) — `interleaved` — and GPT-NeoX / Hugging Face rotate x[i] with x[i + d/2] —
 * `half`. The cos/sin tables are computed once on the host (float32 as PyTorch computes them);
 * positions are an argument, so a decoder with a KV cache can rotate token t alone.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { int, options } from '../tensor/args.js';
import { fromStorage } from '../tensor/creation.js';
import { cat } from '../tensor/join.js';
import type { Tensor } from '../tensor/tensor.js';
import type { DeviceName } from '../graph/node.js';
import { engine } from '../scheduler/engine.js';
import { Module } from './module.js';

export type RopePairing = 'interleaved' | 'half';

export interface RopeTableOptions {
  /** The base θ of the frequencies (default 10000; LLaMA-3 uses 500000). */
  ropeTheta?: number;
  /** Linear position scaling ("position interpolation"): angles use position / factor (default 1). */
  scalingFactor?: number;
}

export interface RotaryEmbeddingOptions extends RopeTableOptions {
  /** Which features form a rotated pair (default 'interleaved', LLaMA's and llama2.c's). */
  pairing?: RopePairing;
}

/**
 * cos and sin of the rotation angles, each [maxPositions, headDim / 2]: row p, column i is
 * angle (p / factor) · θ^(-2i/headDim). Each step rounds to float32 as PyTorch's float32
 * `1 / θ ** (arange(0, d, 2) / d)` and `outer(t, freqs)` do, so the tables match its to an ulp.
 */
export function ropeTables(headDim: number, maxPositions: number, opts: RopeTableOptions = {}): { cos: Tensor; sin: Tensor } {
  const op = 'ropeTables';
  const o = options<RopeTableOptions>(op, opts, ['ropeTheta', 'scalingFactor']);
  int(op, 'headDim', headDim);
  int(op, 'maxPositions', maxPositions);
  if (headDim < 2 || headDim % 2 !== 0) throw new ShapeError(`${op}: headDim must be a positive even number, got ${headDim}`);
  if (maxPositions < 1) throw new RangeError(`${op}: maxPositions must be at least 1, got ${maxPositions}`);
  const theta = o.ropeTheta ?? 10000, factor = o.scalingFactor ?? 1;
  if (!(theta > 0) || !(factor > 0)) throw new RangeError(`${op}: ropeTheta and scalingFactor must be positive, got ${theta} and ${factor}`);
  const f = Math.fround, half = headDim / 2;
  const inv = Array.from({ length: half }, (_, i) => f(1 / f(f(theta) ** f((2 * i) / headDim))));
  const cos = new Float32Array(maxPositions * half), sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    const t = f(p / factor);
    for (let i = 0; i < half; i++) {
      const a = f(t * inv[i]!);
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
  return { cos: fromStorage(cos, [maxPositions, half], 'float32'), sin: fromStorage(sin, [maxPositions, half], 'float32') };
}

/**
 * Tables made for a RotaryEmbedding, by their arguments and device: every layer of a model (and
 * every model alike) shares one pair instead of holding its own copy, which for a long context
 * is no small thing (131072 positions of 64 pairs: 64 MiB a layer). They are never written.
 */
const shared = new Map<string, WeakRef<{ cos: Tensor; sin: Tensor }>>();

function sharedRopeTables(headDim: number, maxPositions: number, opts: RopeTableOptions, device: DeviceName = engine.defaultDevice): { cos: Tensor; sin: Tensor } {
  const key = `${device}:${headDim}:${maxPositions}:${opts.ropeTheta}:${opts.scalingFactor}`;
  const hit = shared.get(key)?.deref();
  if (hit && !hit.cos.node.disposed && !hit.sin.node.disposed) return hit;
  let made = ropeTables(headDim, maxPositions, opts);
  if (made.cos.device !== device) made = { cos: made.cos.to(device), sin: made.sin.to(device) };
  shared.set(key, new WeakRef(made));
  return made;
}

/**
 * Rotates x by the angles whose cos and sin are given.
 * Shapes: x [..., T, D]; cos, sin [T, D/2] (or anything broadcasting to [..., T, D/2]) → [..., T, D].
 * Differentiable in x (and in cos / sin).
 */
export function applyRotaryEmb(x: Tensor, cos: Tensor, sin: Tensor, pairing: RopePairing = 'interleaved'): Tensor {
  const op = 'applyRotaryEmb';
  const d = x.shape[x.ndim - 1]!;
  if (x.ndim < 2 || d % 2 !== 0 || cos.shape[cos.ndim - 1] !== d / 2 || sin.shape[sin.ndim - 1] !== d / 2) {
    throw new ShapeError(`${op}: expected x [..., T, D] with D even and cos, sin [T, D/2], got x ${fmt(x.shape)}, cos ${fmt(cos.shape)} and sin ${fmt(sin.shape)}`);
  }
  const h = d / 2;
  if (pairing === 'half') {
    const a = x.narrow(-1, 0, h), b = x.narrow(-1, h, h);
    return cat([a.mul(cos).sub(b.mul(sin)), b.mul(cos).add(a.mul(sin))], -1);
  }
  if (pairing !== 'interleaved') throw new TypeError(`${op}: pairing must be 'interleaved' or 'half', got ${String(pairing)}`);
  // (re, im) pairs as the last dim of size 2: the complex product (a + ib)(cos + i sin).
  const pairs = x.reshape([...x.shape.slice(0, -1), h, 2]);
  const a = pairs.narrow(-1, 0, 1), b = pairs.narrow(-1, 1, 1);
  const c = cos.unsqueeze(-1), s = sin.unsqueeze(-1);
  return cat([a.mul(c).sub(b.mul(s)), a.mul(s).add(b.mul(c))], -1).reshape(x.shape);
}

/**
 * Rotary embeddings for heads of size `headDim`, up to `maxPositions` positions.
 * Shapes: forward(x [..., T, headDim], positions) → [..., T, headDim]; `positions` is the first
 * position (a number, default 0: tokens start..start+T-1, a view of the tables) or an int32
 * tensor of positions, [T] or [B, T] for x [B, H, T, headDim] (rows gathered from the tables).
 * The tables are not parameters and not in the state dict (llama2.c's model.py registers its
 * freqs_cos / freqs_sin with persistent=False).
 */
export class RotaryEmbedding extends Module<[x: Tensor, positions?: number | Tensor], Tensor> {
  readonly pairing: RopePairing;
  readonly ropeTheta: number;
  readonly scalingFactor: number;
  /** Shared with the other RotaryEmbeddings of these arguments (sharedRopeTables); held here so that they stay alive. */
  private tables: { cos: Tensor; sin: Tensor };
  private get cos(): Tensor { return this.tables.cos; }
  private get sin(): Tensor { return this.tables.sin; }

  constructor(readonly headDim: number, readonly maxPositions: number, opts: RotaryEmbeddingOptions = {}) {
    super();
    const o = options<RotaryEmbeddingOptions>('RotaryEmbedding', opts, ['ropeTheta', 'scalingFactor', 'pairing']);
    this.pairing = o.pairing ?? 'interleaved';
    if (this.pairing !== 'interleaved' && this.pairing !== 'half') throw new TypeError(`RotaryEmbedding: pairing must be 'interleaved' or 'half', got ${String(this.pairing)}`);
    this.ropeTheta = o.ropeTheta ?? 10000;
    this.scalingFactor = o.scalingFactor ?? 1;
    this.tables = sharedRopeTables(headDim, maxPositions, { ropeTheta: this.ropeTheta, scalingFactor: this.scalingFactor });
  }

  /** cos and sin for the given positions: [T, headDim / 2] each ([B, 1, T, headDim / 2] for positions [B, T]). */
  angles(t: number, positions: number | Tensor = 0): { cos: Tensor; sin: Tensor } {
    if (typeof positions === 'number') {
      int('RotaryEmbedding', 'positions', positions);
      if (positions < 0 || positions + t > this.maxPositions) {
        throw new RangeError(`RotaryEmbedding: positions ${positions}..${positions + t - 1} are outside 0..${this.maxPositions - 1} (maxPositions ${this.maxPositions})`);
      }
      return { cos: this.cos.narrow(0, positions, t), sin: this.sin.narrow(0, positions, t) };
    }
    if (positions.ndim === 2 && positions.shape[1] === t) {
      // One row of positions per batch element (left-padded prompts of several lengths): the
      // tables become [B, 1, T, headDim / 2], broadcasting over the heads of x [B, H, T, headDim].
      const idx = positions.reshape([-1]), shape = [positions.shape[0]!, 1, t, this.headDim / 2];
      return { cos: this.cos.indexSelect(0, idx).reshape(shape), sin: this.sin.indexSelect(0, idx).reshape(shape) };
    }
    if (positions.ndim !== 1 || positions.shape[0] !== t) throw new ShapeError(`RotaryEmbedding: positions should be [${t}] (one per token) or [B, ${t}] (one row per batch element), got ${fmt(positions.shape)}`);
    return { cos: this.cos.indexSelect(0, positions), sin: this.sin.indexSelect(0, positions) };
  }

  forward(x: Tensor, positions: number | Tensor = 0): Tensor {
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.headDim) {
      throw new ShapeError(`RotaryEmbedding(${this.headDim}): expected x [..., T, ${this.headDim}], got ${fmt(x.shape)}`);
    }
    // The tables follow the input to its device (module.to() moves parameters, and these are not).
    if (this.cos.device !== x.device) this.tables = sharedRopeTables(this.headDim, this.maxPositions, { ropeTheta: this.ropeTheta, scalingFactor: this.scalingFactor }, x.device);
    const { cos, sin } = this.angles(x.shape[x.ndim - 2]!, positions);
    return applyRotaryEmb(x, cos, sin, this.pairing);
  }

  override extraRepr(): string {
    return `${this.headDim}, max_positions=${this.maxPositions}, theta=${this.ropeTheta}, pairing=${this.pairing}${this.scalingFactor === 1 ? '' : `, scaling_factor=${this.scalingFactor}`}`;
  }
}

