/**
 * Optimizers with PyTorch's update rules. step() builds every parameter's update (and the
 * optimizer state's) as lazy graph and writes them all in place in one schedule — each update
 * is one fused elementwise kernel storing into the parameter's (or the state's) own buffer, so
 * a step allocates nothing once warm. Step-dependent scalars (learning rate, bias corrections)
 * are runtime scalars (born.scalar), so the compiled plan of step 1 serves every later step.
 */
import { noGrad } from '../autodiff/grad.js';
import { assignAll } from '../tensor/assign.js';
import { realize } from '../scheduler/realize.js';
import { rounded } from '../tensor/make.js';
import { scalar, tensor, zeros } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';
import { options as readOptions } from '../tensor/args.js';

export type ParamState = Record<string, Tensor>;

export abstract class Optimizer<O extends { lr: number }> {
  readonly params: Tensor[];
  readonly state = new Map<Tensor, ParamState>();
  stepCount = 0;

  constructor(params: Iterable<Tensor>, readonly options: O) {
    this.params = [...(params ?? [])];
    if (!this.params.length) throw new Error(`${this.constructor.name}: given no parameters`);
    for (const p of this.params) {
      if (!p.requiresGrad) throw new Error(`${this.constructor.name}: every parameter must have requiresGrad (got a tensor of shape [${p.shape.join(', ')}] without)`);
    }
    if (!(options.lr >= 0)) throw new RangeError(`${this.constructor.name}: invalid learning rate ${options.lr} (must be >= 0)`);
  }

  get lr(): number { return this.options.lr; }
  set lr(v: number) { this.options.lr = v; }

  /**
   * The hyper-parameter that momentum-cycling schedules (OneCycleLR) move: β₁ of the Adam family
   * ('betas'), SGD's and RMSprop's 'momentum', or none. Either way it reaches the kernels as a
   * runtime scalar, so cycling it compiles nothing new.
   */
  readonly momentumOption: 'betas' | 'momentum' | null = null;
  /** The current momentum (β₁ for the Adam family); undefined for an optimizer without one. */
  get momentum(): number | undefined {
    const o = this.options as unknown as Record<string, unknown>;
    if (this.momentumOption === 'betas') return ((o['betas'] as readonly number[] | undefined) ?? [0.9, 0.999])[0]!;
    if (this.momentumOption === 'momentum') return (o['momentum'] as number | undefined) ?? 0;
    return undefined;
  }
  set momentum(v: number | undefined) {
    const o = this.options as unknown as Record<string, unknown>;
    if (this.momentumOption === null || v === undefined) throw new TypeError(`${this.constructor.name}: has no momentum to set`);
    if (this.momentumOption === 'betas') o['betas'] = [v, ((o['betas'] as readonly number[] | undefined) ?? [0.9, 0.999])[1]!];
    else o['momentum'] = v;
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** The new value of p and of its state tensors, given its gradient. */
  protected abstract update(p: Tensor, g: Tensor, state: ParamState, scalars: Record<string, Tensor>): Update;
  protected abstract scalars(t: number): Record<string, number>;
  protected abstract initState(p: Tensor): ParamState;

  /**
   * Starts the update schedule; the parameters hold the new (pending) values when it returns.
   * `alongside` (the loss, metrics) are computed in the same schedule.
   */
  step(alongside: readonly Tensor[] = []): Promise<void> {
    this.stepCount++;
    const scalars = Object.fromEntries(Object.entries(this.scalars(this.stepCount)).map(([k, v]) => [k, scalar(v)]));
    // [tensor, its new value]: written in place where the tensor holds a buffer (from the second
    // step on, for state made lazily by initState), else the tensor moves to the computed value.
    const writes: [Tensor, Tensor][] = [];
    noGrad(() => {
      for (const p of this.params) {
        const g = p.grad;
        if (!g) continue;
        let state = this.state.get(p);
        if (!state) this.state.set(p, (state = this.initState(p)));
        const u = this.update(p, g, state, scalars);
        writes.push([p, u.value]);
        for (const [k, t] of Object.entries(u.state)) {
          const holder = state[k] ?? (state[k] = new Tensor(t.node));
          writes.push([holder, t]);
        }
      }
    });
    return assignAll(writes, alongside);
  }

  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.params.forEach((p, i) => {
      for (const [k, t] of Object.entries(this.state.get(p) ?? {})) out[`state.${i}.${k}`] = t;
    });
    out['step'] = tensor(new Int32Array([this.stepCount]), { shape: [] });
    return out;
  }

  async loadStateDict(sd: Record<string, Tensor>): Promise<void> {
    const step = sd['step'];
    if (step) this.stepCount = await step.item();
    // Each state tensor gets a buffer of its own, realised now, so the next step updates it in
    // place with the same plan as every later step (a loaded tensor may be a view of the file's
    // one buffer, which a step could only replace by a copy: another plan, other roundings).
    const owned: Tensor[] = [];
    this.params.forEach((p, i) => {
      const prefix = `state.${i}.`;
      const entries = Object.entries(sd).filter(([k]) => k.startsWith(prefix));
      if (!entries.length) return;
      this.state.set(p, Object.fromEntries(entries.map(([k, t]) => {
        const c = t.detach().clone();
        owned.push(c);
        return [k.slice(prefix.length), c];
      })));
    });
    await realize(owned.map((t) => t.node));
  }
}

/** A parameter's new value and its new state tensors. */
export interface Update { readonly value: Tensor; readonly state: ParamState }

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

/**
 * Stochastic gradient descent, optionally with (Nesterov) momentum, PyTorch's update rule.
 * `lr` is required, as in PyTorch 1.13: `new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })`.
 */
export class SGD extends Optimizer<SGDOptions> {
  override readonly momentumOption = 'momentum' as const;
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    if ((options as SGDOptions | undefined)?.lr === undefined) {
      throw new TypeError('SGD: lr is required (PyTorch 1.13 has no default learning rate for SGD): new optim.SGD(params, { lr: 0.01 })');
    }
    super(params, optimizerOptions('SGD', options, { lr: options.lr }, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']));
    const { momentum = 0, dampening = 0, nesterov = false } = options;
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError('SGD: nesterov momentum requires a momentum > 0 and zero dampening (as in PyTorch)');
    }
  }
  protected scalars(): Record<string, number> { return { lr: this.options.lr, momentum: this.options.momentum ?? 0 }; }
  protected initState(): ParamState { return {}; }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Record<string, Tensor>): Update {
    const { momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = this.options;
    let g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const next: ParamState = {};
    if (momentum) {
      const prev = state['momentum_buffer'];
      // The first buffer is a copy of the gradient, as in PyTorch (assignAll copies into new state).
      const buf = prev ? prev.mul(s['momentum']!).add(g.mul(1 - dampening)) : g;
      next['momentum_buffer'] = buf;
      // Read as stored (rounded to its dtype), whether the kernel recomputes it or loads it.
      const stored = rounded(buf);
      g = nesterov ? g.add(stored.mul(s['momentum']!)) : stored;
    }
    return result(p.sub(g.mul(s['lr']!)), next);
  }
}

export interface AdamOptions { lr?: number; betas?: readonly [number, number]; eps?: number; weightDecay?: number }

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

/**
 * Adam, PyTorch's update rule and defaults (lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0);
 * AdamW differs only in decoupled weight decay. `new optim.Adam(model.parameters())`.
 */
export class Adam extends Optimizer<AdamOptions & { lr: number }> {
  protected decoupled = false;
  override readonly momentumOption = 'betas' as const;
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, optimizerOptions(new.target.name, options, { lr: 1e-3 }, ADAM_KEYS));
  }
  protected scalars(t: number): Record<string, number> {
    const [b1, b2] = this.options.betas ?? [0.9, 0.999];
    const { lr, weightDecay = 0 } = this.options;
    return { stepSize: lr / (1 - b1 ** t), rootCorrection: 1 / Math.sqrt(1 - b2 ** t), decay: 1 - lr * weightDecay, ...beta1(b1) };
  }
  protected initState(p: Tensor): ParamState {
    return momentState(p, 'exp_avg_sq');
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Record<string, Tensor>): Update {
    const [, b2] = this.options.betas ?? [0.9, 0.999];
    const { eps = 1e-8, weightDecay = 0 } = this.options;
    const g = !this.decoupled && weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const m = firstMoment(state['exp_avg']!, g, s);
    const v = secondMoment(state['exp_avg_sq']!, g, b2);
    const base = this.decoupled && weightDecay ? p.mul(s['decay']!) : p;
    // m and v as stored (rounded to their dtype), whether the kernel recomputes them or loads them.
    const value = base.sub(rounded(m).mul(s['stepSize']!).div(rounded(v).sqrt().mul(s['rootCorrection']!).add(eps)));
    return result(value, { exp_avg: m, exp_avg_sq: v });
  }
}

/** AdamW: Adam with decoupled weight decay, PyTorch's defaults (lr 1e-3, weightDecay 0.01). */
export class AdamW extends Adam {
  protected override decoupled = true;
  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, { weightDecay: 0.01, ...optimizerOptions('AdamW', options, { lr: 1e-3 }, ADAM_KEYS) });
  }
}

export interface RMSpropOptions { lr?: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number }

/** RMSprop, PyTorch's update rule and defaults (lr 1e-2, alpha 0.99, eps 1e-8). */
export class RMSprop extends Optimizer<RMSpropOptions & { lr: number }> {
  override readonly momentumOption = 'momentum' as const;
  constructor(params: Iterable<Tensor>, options: RMSpropOptions = {}) {
    super(params, optimizerOptions('RMSprop', options, { lr: 1e-2 }, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum']));
  }
  protected scalars(): Record<string, number> { return { lr: this.options.lr, momentum: this.options.momentum ?? 0 }; }
  protected initState(p: Tensor): ParamState {
    const st: ParamState = { square_avg: zeros(p.shape, { dtype: p.dtype }) };
    if (this.options.momentum) st['momentum_buffer'] = zeros(p.shape, { dtype: p.dtype });
    return st;
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Record<string, Tensor>): Update {
    const { alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0 } = this.options;
    const g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const sq = state['square_avg']!.mul(alpha).add(g.mul(g).mul(1 - alpha));
    // State read as stored (rounded to its dtype), whether the kernel recomputes it or loads it.
    const step = g.div(rounded(sq).sqrt().add(eps));
    if (momentum) {
      const buf = state['momentum_buffer']!.mul(s['momentum']!).add(step);
      return result(p.sub(rounded(buf).mul(s['lr']!)), { square_avg: sq, momentum_buffer: buf });
    }
    return result(p.sub(step.mul(s['lr']!)), { square_avg: sq });
  }
}

/** β₁ and 1 - β₁ as runtime scalars (momentum-cycling schedules change β₁ every step). */
export const beta1 = (b1: number): Record<string, number> => ({ beta1: b1, oneMinusBeta1: 1 - b1 });
/** The Adam family's first moment, m = β₁·m + (1 - β₁)·g, with β₁ a runtime scalar. */
export const firstMoment = (m: Tensor, g: Tensor, s: Record<string, Tensor>): Tensor => m.mul(s['beta1']!).add(g.mul(s['oneMinusBeta1']!));

/** Adam's second moment, β₂·v + (1 - β₂)·g². */
export const secondMoment = (v: Tensor, g: Tensor, b2: number): Tensor => v.mul(b2).add(g.mul(g).mul(1 - b2));

/** First-moment and second buffer (`exp_avg_sq`, or Adamax's `exp_inf`), zero, as PyTorch names them. */
export function momentState(p: Tensor, second: 'exp_avg_sq' | 'exp_inf'): ParamState {
  return { exp_avg: zeros(p.shape, { dtype: p.dtype }), [second]: zeros(p.shape, { dtype: p.dtype }) };
}

export const result = (value: Tensor, state: ParamState): Update => ({ value, state });

/**
 * The options of optimizer `op` with PyTorch's defaults filled in, after checking that only
 * `keys` are given (a misspelt option is a TypeError) and that each hyper-parameter is in the
 * range PyTorch accepts (a RangeError naming it and the valid range).
 */
export function optimizerOptions<O extends { lr: number }>(op: string, given: unknown, defaults: O, keys: readonly string[]): O {
  const o = { ...defaults, ...readOptions<Partial<O>>(op, given, keys as (keyof O & string)[]) } as O;
  const rec = o as unknown as Record<string, unknown>;
  for (const k of keys) {
    const v = rec[k];
    if (v === undefined) continue;
    if (k === 'nesterov') {
      if (typeof v !== 'boolean') throw new TypeError(`${op}: nesterov must be true or false, got ${String(v)}`);
    } else if (k === 'betas') {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
        throw new RangeError(`${op}: betas must be two numbers in [0, 1), got ${JSON.stringify(v)}`);
      }
    } else if (typeof v !== 'number' || !(v >= 0)) {
      throw new RangeError(`${op}: invalid ${k === 'lr' ? 'learning rate (lr)' : k} ${String(v)} (must be a number >= 0)`);
    }
  }
  return o;
}
