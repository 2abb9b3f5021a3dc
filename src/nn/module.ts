/**
 * nn.Module: parameters, buffers and children found by walking the module's own fields, named
 * as PyTorch names them ('0.weight', 'bn.running_mean'), so PyTorch state dicts load unchanged.
 */
import { ShapeError, fmt } from '../graph/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { realize } from '../scheduler/realize.js';
import { assignAll } from '../tensor/assign.js';

/**
 * A tensor that is a learnable parameter: requiresGrad, and found by Module.parameters(). Its
 * value is computed now (in the background), so every forward reads the same stored float32
 * numbers instead of re-deriving an initialiser inside its kernels.
 */
export function parameter(t: Tensor): Tensor {
  realize([t.node]).catch(() => {}); // a failure surfaces when the parameter is read
  return t.requiresGrad_();
}

const isModule = (v: unknown): v is Module => v instanceof Module;

export abstract class Module {
  training = true;
  /** Non-learnable state saved in the state dict (BatchNorm's running statistics), by PyTorch name. */
  protected readonly buffers = new Map<string, Tensor>();

  abstract forward(...inputs: Tensor[]): Tensor;

  protected registerBuffer(name: string, t: Tensor): Tensor {
    realize([t.node]).catch(() => {});
    this.buffers.set(name, t);
    return t;
  }

  /** Child modules by field name; arrays of modules (Sequential) by index. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, v] of Object.entries(this)) {
      if (isModule(v)) out.push([fieldName(key), v]);
      else if (Array.isArray(v) && v.length && v.every(isModule)) v.forEach((m, i) => out.push([String(i), m]));
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, v] of Object.entries(this)) {
      if (v instanceof Tensor && v.node.gradLeaf) out.push([prefix + fieldName(key), v]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedParameters(`${prefix}${name}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.buffers].map(([k, t]) => [prefix + k, t]);
    for (const [name, child] of this.namedChildren()) out.push(...child.namedBuffers(`${prefix}${name}.`));
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

  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values in by name, checking shapes; `strict` (default) also rejects missing and extra keys. */
  loadStateDict(sd: Record<string, Tensor>, opts: { strict?: boolean } = {}): void {
    const own = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    if (opts.strict ?? true) {
      const missing = [...own.keys()].filter((k) => !(k in sd));
      const extra = Object.keys(sd).filter((k) => !own.has(k));
      if (missing.length || extra.length) {
        throw new Error(`loadStateDict: keys differ` + (missing.length ? `; missing: ${missing.join(', ')}` : '') + (extra.length ? `; unexpected: ${extra.join(', ')}` : ''));
      }
    }
    const writes: [Tensor, Tensor][] = [];
    for (const [k, t] of own) {
      const v = sd[k];
      if (!v) continue;
      if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        throw new ShapeError(`loadStateDict: '${k}' has shape ${fmt(v.shape)} in the state dict but ${fmt(t.shape)} in the model`);
      }
      writes.push([t, v.to(t.dtype)]);
    }
    // Copied into the model's own buffers in one schedule (as PyTorch copies), so training
    // in place never writes into the tensors of the state dict.
    assignAll(writes).catch(() => {}); // a failure surfaces when a parameter is read
  }

  /** Only the CPU device exists in this build; 'webgpu' is a clear error. */
  to(device: 'cpu' | 'webgpu'): this {
    for (const p of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) p.to(device);
    return this;
  }

  /** Computes every parameter and buffer (e.g. after initialisation), in one schedule. */
  async realize(): Promise<void> {
    await realize([...this.parameters(), ...this.namedBuffers().map(([, b]) => b)].map((t) => t.node));
  }
}

/** Fields are camelCase; state-dict keys are PyTorch's snake_case. */
const fieldName = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
