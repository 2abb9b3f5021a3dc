/**
 * Runs the plan of a real graph through the WGSL printers, step by step with runProgram (no
 * WebGPU device in the scheduler needed), and gives the outputs next to the CPU device's.
 */
import type { DType, TypedArray } from '../../src/graph/dtype.js';
import { numel } from '../../src/graph/shape.js';
import { acquireGpu } from '../../src/devices/webgpu/gpu.js';
import { printWgsl } from '../../src/devices/webgpu/wgsl/index.js';
import type { WgslOptions, WgslProgram } from '../../src/devices/webgpu/wgsl/program.js';
import { ERROR_RECORD_LENGTH, extraOutputSlot, type Kernel } from '../../src/kernel/ir.js';
import type { LazyNode } from '../../src/graph/node.js';
import { walk } from '../../src/scheduler/plan-key.js';
import { planFor, readNode } from '../../src/scheduler/realize.js';
import { stepOutputs } from '../../src/scheduler/schedule.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { runProgram, type SlotData } from './run-program.js';

export async function wgslOptions(alias: readonly number[]): Promise<WgslOptions> {
  const { limits, f16 } = await acquireGpu();
  return {
    alias, f16, maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup, maxWorkgroupStorageBytes: limits.maxComputeWorkgroupStorageSize,
  };
}

export interface GpuRun {
  /** Per requested tensor: its storage as the WGSL kernels computed it. */
  readonly gpu: TypedArray[];
  /** The same from the CPU device. */
  readonly cpu: TypedArray[];
  readonly kernels: Kernel[];
  readonly programs: WgslProgram[];
  /** Per step with index checks, its error record words. */
  readonly errors: Int32Array[];
}

/** Plans `ts`, runs each step's WGSL program over the data of its inputs, then the CPU device. */
/** `cpu: false` skips the CPU run (a store node's value is its target's, read by the caller). */
export async function runOnGpu(ts: readonly (Tensor | LazyNode)[], opts: { cpu?: boolean } = {}): Promise<GpuRun> {
  const roots: LazyNode[] = ts.map((t) => ('node' in t ? t.node : t));
  const plan = planFor(roots);
  const order = walk(roots).order;
  const data = new Map<number, TypedArray>();
  const dataOf = async (i: number): Promise<TypedArray> => {
    const known = data.get(i);
    if (known) return known;
    const v = await readNode(order[i]!);
    data.set(i, v);
    return v;
  };
  for (const [a, b] of plan.aliases) { const d = data.get(b); if (d) data.set(a, d); }
  const kernels: Kernel[] = [], programs: WgslProgram[] = [], errors: Int32Array[] = [];
  for (const step of plan.steps) {
    const k = step.kernel;
    const checks = (k.indexChecks?.length ?? 0) > 0;
    const outs = stepOutputs(step);
    const outSlots = [0, ...(k.extraOutputs ?? []).map((_, j) => extraOutputSlot(k, j))];
    const total = k.inputs.length + 1 + (checks ? 1 : 0) + (k.extraOutputs?.length ?? 0);
    const alias = Array.from({ length: total }, (_, s) => s);
    // A store writes its target's buffer; an input that is a target reads it through that output.
    step.inputIdx.forEach((idx, j) => {
      const o = outs.findIndex((w) => w.target === idx);
      if (o >= 0) alias[j + 1] = outSlots[o]!;
    });
    const slots: SlotData[] = new Array(total);
    for (const [o, w] of outs.entries()) {
      const dtype = o === 0 ? k.out.dtype : k.extraOutputs![o - 1]!.dtype;
      const shape = o === 0 ? k.out.shape : k.extraOutputs![o - 1]!.shape;
      slots[outSlots[o]!] = w.target !== null ? { dtype, data: (await dataOf(w.target)).slice() } : { dtype, count: numel(shape) };
    }
    for (const [j, idx] of step.inputIdx.entries()) slots[j + 1] = alias[j + 1] !== j + 1 ? { dtype: k.inputs[j]!, count: 1 } : { dtype: k.inputs[j]!, data: await dataOf(idx) };
    if (checks) slots[k.inputs.length + 1] = { dtype: 'int32', count: ERROR_RECORD_LENGTH };
    const params = await Promise.all(step.paramIdx.map(async (idx, s) => {
      const a = order[idx]!.arg;
      const value = a.kind === 'param' ? a.value : Number((await dataOf(idx))[0]);
      return { dtype: k.params[s]! as DType, value };
    }));
    const p = printWgsl(k, await wgslOptions(alias));
    const res = await runProgram(p, slots, params).catch(async (e: unknown) => { throw new Error(`${String(e)}\n${await compileMessages(p.code)}`); });
    outs.forEach((w, o) => data.set(w.output, res[outSlots[o]!] as TypedArray));
    if (checks) errors.push(res[k.inputs.length + 1] as Int32Array);
    kernels.push(k); programs.push(p);
  }
  const outIdx = walk(roots).outputs;
  const gpu = outIdx.map((i) => data.get(i) ?? (() => { throw new Error(`no step wrote output ${i}`); })());
  const cpu: TypedArray[] = [];
  if (opts.cpu !== false) for (const r of roots) cpu.push(await readNode(r));
  return { gpu, cpu, kernels, programs, errors };
}

/** The compiler's messages for `code`, with the lines they point at. */
export async function compileMessages(code: string): Promise<string> {
  const { device } = await acquireGpu();
  const info = await device.createShaderModule({ code }).getCompilationInfo();
  const lines = code.split('\n');
  return info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}\n  ${lines[m.lineNum - 1] ?? ''}`).join('\n');
}
