/**
 * Reverse-mode autodiff as a graph transform: walk the recorded DAG from the output back to the
 * inputs, applying each primitive's VJP rule. The result is more lazy graph — fused, scheduled
 * and placed like the forward pass, and differentiable again.
 */
import { isFloat } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { gradMode, nextNodeId, type LazyNode } from '../graph/node.js';
import { Tensor } from '../tensor/tensor.js';
import { full, onDevice } from '../tensor/make.js';
import { prodVjp, rowVjp } from '../tensor/scan.js';
import { windowVjp } from '../tensor/window.js';
import { castVjp, elementwiseVjp, gatherVjp, matmulVjp, movementVjp, reduceVjp, scatterAddVjp } from './rules.js';

export interface GradOptions {
  /** The vector in the vector-Jacobian product; required when the output has more than one element. */
  readonly gradOutput?: Tensor;
  /** Return zeros for inputs the output does not depend on, instead of throwing. */
  readonly allowUnused?: boolean;
}

/**
 * Nodes from which `output` is reachable, sources first (iterative: graphs can be deep). The
 * sources of a stopGradient node (detach, noGrad) are not part of the differentiable graph.
 */
function topo(output: LazyNode): LazyNode[] {
  const order: LazyNode[] = [];
  const seen = new Set<LazyNode>();
  const stack: [LazyNode, number][] = [[output, 0]];
  seen.add(output);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const srcs = top[0].stopGradient ? [] : top[0].srcs;
    if (top[1] < srcs.length) {
      const s = srcs[top[1]++]!;
      if (!seen.has(s)) { seen.add(s); stack.push([s, 0]); }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  return order;
}

function vjp(n: LazyNode, g: Tensor): (Tensor | null)[] {
  const x = n.srcs.map((s) => new Tensor(s));
  const out = new Tensor(n);
  const a = n.arg;
  switch (a.kind) {
    case 'elementwise': return elementwiseVjp[a.op](g, x, out);
    case 'cast': return [castVjp(g, x[0]!)];
    case 'view': return [movementVjp(g, a.movement, x[0]!)];
    case 'reduce': return [a.op === 'prod' ? prodVjp(g, x[0]!, a.axes) : reduceVjp(a.op, g, x[0]!, out)];
    case 'row': return [rowVjp(a.op, g, x[0]!, out)];
    case 'window': return windowVjp(a.op, a.geom, g, x, out);
    case 'matmul': return matmulVjp(g, x[0]!, x[1]!);
    case 'gather': return [gatherVjp(g, x[0]!, a.axis, x[1]!, a.op), null];
    case 'scatterAdd': { const [gb, gs] = scatterAddVjp(g, x[2]!, a.axis, x[1]!, a.op); return [gb, null, gs]; }
    case 'buffer': case 'const': case 'rand': case 'iota': case 'param': return [];
    case 'store': return []; // in-place writes are never differentiated (their nodes stop gradients)
    // The gradient goes back to the device the value came from.
    case 'transfer': return [n.srcs[0]!.device === null ? g : g.to(n.srcs[0]!.device)];
    // Quantised weights are frozen: their packed bytes (uint8) never want a gradient.
    case 'dequant': return [null];
  }
}

export function grad(output: Tensor, inputs: readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  if (!isFloat(output.dtype)) throw new DTypeError(`grad: the output must be a floating-point tensor, got ${output.dtype}`);
  for (const t of inputs) {
    if (!isFloat(t.dtype)) throw new DTypeError(`grad: cannot differentiate with respect to a ${t.dtype} tensor of shape ${fmt(t.shape)} (only float tensors have gradients)`);
  }
  let seed = opts.gradOutput;
  if (seed) {
    if (seed.shape.length !== output.shape.length || seed.shape.some((d, i) => d !== output.shape[i])) {
      throw new ShapeError(`grad: gradOutput of shape ${fmt(seed.shape)} does not match the output's shape ${fmt(output.shape)}`);
    }
  } else {
    if (output.numel() !== 1) {
      throw new ShapeError(`grad: the output has shape ${fmt(output.shape)}; gradients of a non-scalar need gradOutput (a tensor of that shape)`);
    }
    seed = full(output.shape, 1, output.dtype);
  }

  for (const t of [output, ...inputs]) {
    if (t.node.disposed) throw new Error(`grad: ${t === output ? 'the output' : 'an input'} of shape ${fmt(t.shape)} was disposed`);
  }
  const first = nextNodeId();
  const order = topo(output.node);
  const targets = new Set(inputs.map((t) => t.node));
  // Only nodes with a path to some input take part: dead branches get no gradient nodes.
  const live = new Set<LazyNode>();
  for (const n of order) if (targets.has(n) || (!n.stopGradient && n.srcs.some((s) => live.has(s)))) live.add(n);
  for (const t of inputs) {
    if (!live.has(t.node) && !opts.allowUnused) {
      throw new Error(`grad: an input of shape ${fmt(t.shape)} is not in the graph of the output (${cutReason(output.node, t.node)})`);
    }
  }
  // The forward graph these gradients are derived from must survive realisation: a second-order
  // grad() walks it (recomputing values that were not kept) instead of finding it cut.
  for (const n of live) n.keepsHistory = true;

  const grads = new Map<LazyNode, Tensor>([[output.node, seed]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    const g = grads.get(n);
    if (!g || !live.has(n) || n.srcs.length === 0) continue;
    const parts = vjp(n, g);
    n.srcs.forEach((s, j) => {
      const p = parts[j];
      if (!p || !live.has(s)) return;
      const prev = grads.get(s);
      grads.set(s, prev ? prev.add(p) : p);
    });
  }
  const result = inputs.map((t) => grads.get(t.node) ?? onDevice(full(t.shape, 0, t.dtype), t.node.device));
  markGradient(result.map((t) => t.node), first);
  return result;
}

/**
 * Flags the nodes made since `first` that `roots` reach: they are gradient nodes (a schedule that
 * computes one is a backward pass, see scheduler/realize.ts) and keep their history once realised.
 */
function markGradient(roots: readonly LazyNode[], first: number): void {
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.id < first || n.gradNode) continue;
    n.gradNode = true;
    n.keepsHistory = true;
    stack.push(...n.srcs);
  }
}

/** Why `input` is not on a differentiable path to `output`, for the error message. */
function cutReason(output: LazyNode, input: LazyNode): string {
  let viaStop = false;
  let released: LazyNode | null = null;
  const seen = new Set<LazyNode>();
  const stack: [LazyNode, boolean][] = [[output, false]];
  while (stack.length) {
    const [n, stopped] = stack.pop()!;
    if (n === input) { viaStop ||= stopped; continue; }
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.historyReleased) released ??= n;
    for (const s of n.srcs) stack.push([s, stopped || n.stopGradient]);
  }
  const what = (n: LazyNode): string => `a ${n.dtype} tensor of shape ${fmt(n.shape)}`;
  if (viaStop) return 'it is reached only through detach() or a noGrad block, where no gradient flows';
  if (released) {
    return `the graph was cut at ${what(released)} that was realised (data(), item(), realize()) without requiresGrad, ` +
      'which releases its history: call requiresGrad_() on the input before computing, or call grad() before reading values';
  }
  return 'it was not used to compute it';
}

/**
 * Runs `fn` without recording gradient information: results have requiresGrad false. An `async`
 * fn stays in no-grad mode across its awaits (the mode follows the async context), and tasks
 * running concurrently outside it keep recording. A plain function that returns a promise is
 * covered for its synchronous part only: write it as an `async` function to cover the rest.
 */
export function noGrad<T>(fn: () => T): T {
  return gradMode.run(false, fn);
}

/** PyTorch's loss.backward(): accumulates into .grad of every requiresGrad leaf it reaches. */
export function backward(output: Tensor, opts: GradOptions = {}): void {
  const leaves = topo(output.node).filter((n) => n.gradLeaf).map((n) => new Tensor(n));
  if (!leaves.length) throw new Error('backward: no tensor in the graph has requiresGrad (call x.requiresGrad_() on the leaves)');
  const first = nextNodeId();
  const gs = grad(output, leaves, opts);
  leaves.forEach((leaf, i) => {
    const prev = leaf.node.grad;
    leaf.node.grad = prev ? new Tensor(prev).add(gs[i]!).node : gs[i]!.node;
  });
  markGradient(leaves.map((l) => l.node.grad!), first);
}
