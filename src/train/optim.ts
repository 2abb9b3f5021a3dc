/**
 * Optimizers with PyTorch's update rules. step() builds every parameter's update (and the
 * optimizer state's) as lazy graph and writes them all in place in one schedule — each update
 * is one fused elementwise kernel storing into the parameter's (or the state's) own buffer, so
 * a step allocates nothing once warm. Step-dependent scalars (learning rate, bias corrections)
 * are runtime scalars (born.scalar), so the compiled plan of step 1 serves every later step.
 */
import { noGrad } from '../autodiff/grad.js';
import { assignAll } from '../tensor/assign.js';
import { rounded } from '../tensor/make.js';
import { scalar, tensor, zeros } from '../tensor/creation.js';
import { Tensor } from '../tensor/tensor.js';

export type ParamState = Record<string, Tensor>;

export abstract class Optimizer<O extends { lr: number }> {
  readonly params: Tensor[];
  readonly state = new Map<Tensor, ParamState>();
  stepCount = 0;

  constructor(params: Iterable<Tensor>, readonly options: O) {
    this.params = [...params];
    if (!this.params.length) throw new Error(`${this.constructor.name}: given no parameters`);
    for (const p of this.params) {
      if (!p.requiresGrad) throw new Error(`${this.constructor.name}: every parameter must have requiresGrad (got a tensor of shape [${p.shape.join(', ')}] without)`);
    }
    if (!(options.lr >= 0)) throw new RangeError(`${this.constructor.name}: invalid learning rate ${options.lr} (must be >= 0)`);
  }

  get lr(): number { return this.options.lr; }
  set lr(v: number) { this.options.lr = v; }

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
    this.params.forEach((p, i) => {
      const prefix = `state.${i}.`;
      const entries = Object.entries(sd).filter(([k]) => k.startsWith(prefix));
      if (entries.length) this.state.set(p, Object.fromEntries(entries.map(([k, t]) => [k.slice(prefix.length), t.detach()])));
    });
  }
}

/** A parameter's new value and its new state tensors. */
export interface Update { readonly value: Tensor; readonly state: ParamState }

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params, options);
    const { momentum = 0, dampening = 0, nesterov = false } = options;
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError('SGD: nesterov momentum requires a momentum > 0 and zero dampening (as in PyTorch)');
    }
  }
  protected scalars(): Record<string, number> { return { lr: this.options.lr }; }
  protected initState(): ParamState { return {}; }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Record<string, Tensor>): Update {
    const { momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = this.options;
    let g = weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const next: ParamState = {};
    if (momentum) {
      const prev = state['momentum_buffer'];
      // The first buffer is a copy of the gradient, as in PyTorch (assignAll copies into new state).
      const buf = prev ? prev.mul(momentum).add(g.mul(1 - dampening)) : g;
      next['momentum_buffer'] = buf;
      // Read as stored (rounded to its dtype), whether the kernel recomputes it or loads it.
      const stored = rounded(buf);
      g = nesterov ? g.add(stored.mul(momentum)) : stored;
    }
    return result(p.sub(g.mul(s['lr']!)), next);
  }
}

export interface AdamOptions { lr: number; betas?: readonly [number, number]; eps?: number; weightDecay?: number }

/** Adam; AdamW differs only in decoupled weight decay. */
export class Adam extends Optimizer<AdamOptions> {
  protected decoupled = false;
  protected scalars(t: number): Record<string, number> {
    const [b1, b2] = this.options.betas ?? [0.9, 0.999];
    const { lr, weightDecay = 0 } = this.options;
    return { stepSize: lr / (1 - b1 ** t), rootCorrection: 1 / Math.sqrt(1 - b2 ** t), decay: 1 - lr * weightDecay };
  }
  protected initState(p: Tensor): ParamState {
    return { exp_avg: zeros(p.shape, { dtype: p.dtype }), exp_avg_sq: zeros(p.shape, { dtype: p.dtype }) };
  }
  protected update(p: Tensor, grad: Tensor, state: ParamState, s: Record<string, Tensor>): Update {
    const [b1, b2] = this.options.betas ?? [0.9, 0.999];
    const { eps = 1e-8, weightDecay = 0 } = this.options;
    const g = !this.decoupled && weightDecay ? grad.add(p.mul(weightDecay)) : grad;
    const m = state['exp_avg']!.mul(b1).add(g.mul(1 - b1));
    const v = state['exp_avg_sq']!.mul(b2).add(g.mul(g).mul(1 - b2));
    const base = this.decoupled && weightDecay ? p.mul(s['decay']!) : p;
    // m and v as stored (rounded to their dtype), whether the kernel recomputes them or loads them.
    const value = base.sub(rounded(m).mul(s['stepSize']!).div(rounded(v).sqrt().mul(s['rootCorrection']!).add(eps)));
    return result(value, { exp_avg: m, exp_avg_sq: v });
  }
}

export class AdamW extends Adam {
  protected override decoupled = true;
  constructor(params: Iterable<Tensor>, options: AdamOptions) {
    super(params, { weightDecay: 0.01, ...options });
  }
}

export interface RMSpropOptions { lr: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number }

export class RMSprop extends Optimizer<RMSpropOptions> {
  protected scalars(): Record<string, number> { return { lr: this.options.lr }; }
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
      const buf = state['momentum_buffer']!.mul(momentum).add(step);
      return result(p.sub(rounded(buf).mul(s['lr']!)), { square_avg: sq, momentum_buffer: buf });
    }
    return result(p.sub(step.mul(s['lr']!)), { square_avg: sq });
  }
}

const result = (value: Tensor, state: ParamState): Update => ({ value, state });
