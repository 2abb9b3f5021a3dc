/**
 * Contraction composites: mm, bmm, dot, outer (checked forms of matmul, as PyTorch's), einsum
 * (lowered to diagonal masks, sums, permutes, reshapes and the fast batched matmul), scatter and
 * contiguous.
 */
import { isFloat } from '../graph/dtype.js';
import { DTypeError, ShapeError, fmt } from '../graph/errors.js';
import { normAxis } from '../graph/shape.js';
import { isIdentity, compose, contiguousView, type ShapeTracker } from '../graph/view.js';
import { iotaAlong } from './creation.js';
import { where } from './elementwise.js';
import { scatterAdd, matmul } from './linalg.js';
import { cast, full } from './make.js';
import { expand, permute, reshape } from './movement.js';
import { Tensor } from './tensor.js';

const need = (op: string, t: unknown, name: string, ndim: number, what: string): Tensor => {
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.ndim !== ndim) throw new ShapeError(`${op}: ${name} must be ${what} (${ndim}-d), got shape ${fmt(t.shape)}`);
  return t;
};

/** torch.mm: [n, m] @ [m, p] -> [n, p], 2-d operands only (matmul broadcasts; mm does not). */
export function mm(a: Tensor, b: unknown): Tensor {
  need('mm', a, 'self', 2, 'a matrix');
  const y = need('mm', b, 'mat2', 2, 'a matrix');
  if (a.shape[1] !== y.shape[0]) {
    throw new ShapeError(`mm: ${fmt(a.shape)} @ ${fmt(y.shape)}: inner dims differ (${a.shape[1]} vs ${y.shape[0]}); the first's columns must equal the second's rows`);
  }
  return matmul(a, y);
}

/** torch.bmm: [b, n, m] @ [b, m, p] -> [b, n, p], 3-d operands with equal batch sizes (no broadcasting). */
export function bmm(a: Tensor, b: unknown): Tensor {
  need('bmm', a, 'self', 3, 'a batch of matrices');
  const y = need('bmm', b, 'mat2', 3, 'a batch of matrices');
  if (a.shape[0] !== y.shape[0]) throw new ShapeError(`bmm: batch sizes differ: ${fmt(a.shape)} and ${fmt(y.shape)} (bmm does not broadcast; use matmul)`);
  if (a.shape[2] !== y.shape[1]) {
    throw new ShapeError(`bmm: ${fmt(a.shape)} @ ${fmt(y.shape)}: inner dims differ (${a.shape[2]} vs ${y.shape[1]})`);
  }
  return matmul(a, y);
}

/** torch.dot: the inner product of two 1-d tensors of one length (0-d result). */
export function dot(a: Tensor, b: unknown): Tensor {
  need('dot', a, 'self', 1, 'a vector');
  const y = need('dot', b, 'other', 1, 'a vector');
  if (a.shape[0] !== y.shape[0]) throw new ShapeError(`dot: the vectors have different lengths, ${a.shape[0]} and ${y.shape[0]}`);
  return matmul(a, y);
}

/** torch.outer: out[i][j] = a[i] * b[j] for 1-d a, b. */
export function outer(a: Tensor, b: unknown): Tensor {
  need('outer', a, 'self', 1, 'a vector');
  const y = need('outer', b, 'vec2', 1, 'a vector');
  return reshape(a, [a.shape[0]!, 1]).mul(reshape(y, [1, y.shape[0]!]));
}

/**
 * torch.scatter (not in place, not accumulating): a copy of x with out[index[i][j]][j] = src[i][j]
 * (dim 0; likewise for other dims); src is a tensor of x's dtype or a number. Where indices
 * repeat, PyTorch leaves the result undefined; here a number is written once, and tensor values
 * are averaged (equal duplicates give their value). Gradients: x's is g where nothing was
 * written; src's is g read back at the indices (divided among duplicates).
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  const op = 'scatter';
  if (x.dtype === 'bool') return cast(scatter(cast(x, 'int32'), dim, index, typeof src === 'number' ? src : cast(src, 'int32')), 'bool');
  if (typeof src !== 'number' && !(src instanceof Tensor)) throw new TypeError(`scatter: src must be a Tensor or a number, got ${src === null ? 'null' : typeof src}`);
  const d = normAxis(op, dim, x.ndim, x.shape);
  const srcT = typeof src === 'number' ? full(index.shape, src, x.dtype) : src;
  const count = scatterAdd(full(x.shape, 0, 'int32'), d, index, full(index.shape, 1, 'int32'), op);
  const hit = count.gt(0);
  if (typeof src === 'number') return where(hit, full([], src, x.dtype), x);
  if (srcT.dtype !== x.dtype) {
    throw new DTypeError(`scatter: src must have the dtype of the tensor it writes into, got ${srcT.dtype} and ${x.dtype} (convert with .to('${x.dtype}'))`);
  }
  const summed = scatterAdd(full(x.shape, 0, x.dtype), d, index, srcT, op);
  const value = isFloat(summed.dtype)
    ? summed.div(count.maximum(1).to(summed.dtype))
    : cast(summed.div(count.maximum(1)), x.dtype);
  return where(hit, value, x);
}

/**
 * A tensor whose elements are laid out in row-major order: this tensor itself unless it is a
 * view that reorders, strides, offsets or pads its source (permute, transpose, expand, slice,
 * flip), which gets a copy (a lazy one: it fuses into what reads it and is stored only if
 * realised). Reshapes never need it here; it exists for code written for PyTorch.
 */
export function contiguous(x: Tensor): Tensor {
  let t: ShapeTracker = [contiguousView(x.shape)];
  let n = x.node;
  while (!n.realized && n.arg.kind === 'view' && n.srcs.length === 1) {
    t = compose(n.arg.tracker, t);
    n = n.srcs[0]!;
  }
  return isIdentity(t) ? x : x.clone();
}

// ---- einsum ----

/** Labels of one operand's dims: letters, and `.k` for the k-th ellipsis dim from the right. */
type Labels = string[];

function parseTerm(term: string, ndim: number | null, where: string, equation: string): { labels: Labels; ell: number } {
  const parts = term.split('...');
  if (parts.length > 2) throw new ShapeError(`einsum: '${equation}': ${where} has more than one '...'`);
  for (const c of parts.join('')) {
    if (!/[a-zA-Z]/.test(c)) throw new ShapeError(`einsum: '${equation}': invalid subscript '${c}' in ${where} (subscripts are letters a-z, A-Z, and '...')`);
  }
  const before = [...parts[0]!], after = parts.length === 2 ? [...parts[1]!] : [];
  if (ndim === null) return parts.length === 2 ? { labels: [...before, '...', ...after], ell: 1 } : { labels: before, ell: 0 };
  const letters = before.length + after.length;
  const ell = parts.length === 2 ? ndim - letters : 0;
  if (ell < 0 || (parts.length === 1 && letters !== ndim)) {
    throw new ShapeError(`einsum: '${equation}': ${where} has ${letters} subscripts${parts.length === 2 ? " and '...'" : ''} for a tensor with ${ndim} dims`);
  }
  const dots = Array.from({ length: ell }, (_, k) => `.${ell - 1 - k}`);
  return { labels: [...before, ...dots, ...after], ell };
}

/** Sums `x` over the given labels. */
function sumOut(x: Tensor, labels: Labels, drop: ReadonlySet<string>): [Tensor, Labels] {
  const axes = labels.flatMap((l, i) => (drop.has(l) ? [i] : []));
  if (!axes.length) return [x, labels];
  return [x.sum({ dim: axes }), labels.filter((l) => !drop.has(l))];
}

/**
 * Each label once: a repeated label keeps the diagonal, as a mask; the second dim gets a label
 * of its own ('~k') that the caller sums with the other dropped labels, so a trace is one
 * reduction kernel.
 */
function diagonals(x: Tensor, labels: Labels, equation: string, which: number): [Tensor, Labels] {
  for (let k = 0; ; k++) {
    const j = labels.findIndex((l, m) => labels.indexOf(l) !== m);
    if (j < 0) return [x, labels];
    const i = labels.indexOf(labels[j]!);
    if (x.shape[i] !== x.shape[j]) {
      throw new ShapeError(`einsum: '${equation}': subscript '${labels[j]}' is repeated in operand ${which} over dims of sizes ${x.shape[i]} and ${x.shape[j]} (a diagonal needs equal sizes)`);
    }
    x = where(iotaAlong(x.shape, i).eq(iotaAlong(x.shape, j)), x, 0);
    labels = labels.map((l, m) => (m === j ? `~${k}` : l));
  }
}

/** Contracts two operands over their shared labels that `keep` does not need, with one batched matmul. */
function pair(a: Tensor, la: Labels, b: Tensor, lb: Labels, keep: ReadonlySet<string>, size: ReadonlyMap<string, number>): [Tensor, Labels] {
  const batch = la.filter((l) => lb.includes(l) && keep.has(l));
  const con = la.filter((l) => lb.includes(l) && !keep.has(l));
  const aOnly = la.filter((l) => !lb.includes(l));
  const bOnly = lb.filter((l) => !la.includes(l));
  const arrange = (t: Tensor, have: Labels, want: Labels): Tensor => {
    const p = permute(t, want.map((l) => have.indexOf(l)));
    return expand(p, want.map((l) => size.get(l)!));
  };
  const n = (ls: Labels): number => ls.reduce((s, l) => s * size.get(l)!, 1);
  const A = reshape(arrange(a, la, [...batch, ...aOnly, ...con]), [n(batch), n(aOnly), n(con)]);
  const B = reshape(arrange(b, lb, [...batch, ...con, ...bOnly]), [n(batch), n(con), n(bOnly)]);
  const out = con.length ? matmul(A, B) : A.mul(B.reshape([n(batch), 1, n(bOnly)]));
  return [reshape(out, [...batch, ...aOnly, ...bOnly].map((l) => size.get(l)!)), [...batch, ...aOnly, ...bOnly]];
}

/**
 * torch.einsum: `born.einsum('bij,bjk->bik', a, b)` (or the operands as one array). Implicit
 * output (no '->': the labels seen once, in ASCII order, after any '...'), repeated labels for
 * diagonals and traces ('ii->i', 'ii'), '...' for broadcast dims, size-1 dims broadcasting.
 * Operands are contracted left to right, each pair as one batched matmul.
 */
export function einsum(equation: string, ...rest: (Tensor | readonly Tensor[])[]): Tensor {
  if (typeof equation !== 'string') throw new TypeError(`einsum: the first argument must be the equation string, got ${typeof equation}`);
  const operands = (rest.length === 1 && Array.isArray(rest[0]) ? rest[0] : rest) as Tensor[];
  if (!operands.length) throw new ShapeError(`einsum: '${equation}': no operands`);
  operands.forEach((t, i) => { if (!(t instanceof Tensor)) throw new TypeError(`einsum: operand ${i} must be a Tensor, got ${t === null ? 'null' : typeof t}`); });
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.split('->');
  if (arrow.length > 2) throw new ShapeError(`einsum: '${equation}': more than one '->'`);
  const terms = arrow[0]!.split(',');
  if (terms.length !== operands.length) {
    throw new ShapeError(`einsum: '${equation}' has ${terms.length} input term${terms.length === 1 ? '' : 's'} but ${operands.length} operand${operands.length === 1 ? ' was' : 's were'} given`);
  }
  const parsed = terms.map((t, i) => parseTerm(t, operands[i]!.ndim, `operand ${i} ('${t}')`, equation));
  const maxEll = Math.max(0, ...parsed.map((p) => p.ell));
  const ellLabels = Array.from({ length: maxEll }, (_, k) => `.${maxEll - 1 - k}`);
  const size = new Map<string, number>();
  parsed.forEach((p, i) => p.labels.forEach((l, d) => {
    const s = operands[i]!.shape[d]!, had = size.get(l);
    if (had === undefined || had === 1) size.set(l, s);
    else if (s !== had && s !== 1) {
      const name = l.startsWith('.') ? "a '...' dim" : `subscript '${l}'`;
      throw new ShapeError(`einsum: '${equation}': ${name} has size ${had} in one operand and ${s} in operand ${i} (sizes must match or be 1)`);
    }
  }));
  let out: Labels;
  if (arrow.length === 2) {
    const o = parseTerm(arrow[1]!, null, `the output ('${arrow[1]}')`, equation).labels;
    out = o.flatMap((l) => (l === '...' ? ellLabels : [l]));
    const seen = new Set<string>();
    for (const l of out) {
      if (seen.has(l)) throw new ShapeError(`einsum: '${equation}': output subscript '${l}' appears more than once`);
      if (!size.has(l)) throw new ShapeError(`einsum: '${equation}': output subscript '${l}' does not appear in any input`);
      seen.add(l);
    }
    if (maxEll > 0 && !o.includes('...')) throw new ShapeError(`einsum: '${equation}': the inputs have '...' dims, so the output must name them with '...'`);
  } else {
    const count = new Map<string, number>();
    parsed.forEach((p) => p.labels.forEach((l) => count.set(l, (count.get(l) ?? 0) + 1)));
    const once = [...count].filter(([l, c]) => c === 1 && !l.startsWith('.')).map(([l]) => l).sort();
    out = [...ellLabels, ...once];
  }
  const outSet = new Set(out);
  // Each operand alone: diagonals, then the labels no other operand or the output needs.
  const items = operands.map((t, i) => {
    const [x, ls] = diagonals(t, parsed[i]!.labels, equation, i);
    const elsewhere = new Set(parsed.flatMap((p, j) => (j === i ? [] : p.labels)));
    return sumOut(x, ls, new Set(ls.filter((l) => l.startsWith('~') || (!outSet.has(l) && !elsewhere.has(l)))));
  });
  let [acc, labels] = items[0]!;
  for (let i = 1; i < items.length; i++) {
    const later = new Set([...out, ...items.slice(i + 1).flatMap(([, ls]) => ls)]);
    const [b, lb] = items[i]!;
    // Labels neither operand shares nor anything later needs are summed before the product.
    [acc, labels] = sumOut(acc, labels, new Set(labels.filter((l) => !later.has(l) && !lb.includes(l))));
    const [bb, lbb] = sumOut(b, lb, new Set(lb.filter((l) => !later.has(l) && !labels.includes(l))));
    [acc, labels] = pair(acc, labels, bb, lbb, later, size);
  }
  [acc, labels] = sumOut(acc, labels, new Set(labels.filter((l) => !outSet.has(l))));
  const p = permute(acc, out.map((l) => labels.indexOf(l)));
  return expand(p, out.map((l) => size.get(l)!));
}
