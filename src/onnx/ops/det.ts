/**
 * Det (opset 11): the determinants of [..., M, M] matrices, as PyTorch computes them: an LU
 * factorisation with partial pivoting, det = sign(P) * prod(diag(U)).
 *
 * A matrix known on the host (a constant) is factorised there in float64. Otherwise the
 * factorisation is M steps of Born tensor ops over the whole batch at once, so the result stays
 * lazy and differentiable: at step k the pivot row (the largest |a_ik|, i >= k, an argmax) is
 * swapped into row k by adding a rank-1 update (a one-hot row pick, no data-dependent indexing),
 * then the rows below are eliminated. A zero pivot (a singular matrix) is divided as 1 so the
 * column stays 0 and the determinant comes out 0 instead of NaN.
 */
import { isFloat, storageFrom } from '../../graph/dtype.js';
import { fromStorage } from '../../tensor/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { HOST_LIMIT, host, numbers, numel } from '../host.js';
import type { HostArray } from '../tensor-proto.js';
import { register, type OpContext } from './registry.js';

/** det by LU with partial pivoting, in float64, of the n x n matrix at a[off..]. */
export function hostDet(a: ArrayLike<number>, off: number, n: number): number {
  const m = Float64Array.from({ length: n * n }, (_, i) => a[off + i]!);
  let det = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) { const t = m[k * n + j]!; m[k * n + j] = m[p * n + j]!; m[p * n + j] = t; }
      det = -det;
    }
    const piv = m[k * n + k]!;
    det *= piv;
    if (piv === 0) return Number.isNaN(det) ? det : 0;
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / piv;
      for (let j = k; j < n; j++) m[i * n + j]! -= f * m[k * n + j]!;
    }
  }
  return det;
}

function detOnHost(h: HostArray, n: number): HostArray {
  const batch = h.shape.slice(0, -2), vals = numbers(h);
  const out = Array.from({ length: numel(batch) }, (_, b) => hostDet(vals, b * n * n, n));
  return host(h.dtype, batch, out);
}

/** A constant [n] or [n, 1] float mask of `f(i)`. */
const mask = (x: Tensor, n: number, f: (i: number) => boolean, shape: readonly number[]): Tensor =>
  fromStorage(storageFrom(x.dtype, Array.from({ length: n }, (_, i) => (f(i) ? 1 : 0))), shape, x.dtype, x.device);

export function tensorDet(x: Tensor): Tensor {
  const n = x.shape[x.ndim - 1]!;
  // Half-precision LU loses too much: factorise in float32 and round the result once.
  const half = x.dtype === 'float16' || x.dtype === 'bfloat16';
  let a = half ? x.to('float32') : x;
  const rowIdx = fromStorage(Int32Array.from({ length: n }, (_, i) => i), [n], 'int32', a.device);
  let sign: Tensor | undefined;
  for (let k = 0; k < n - 1; k++) {
    const colK = a.narrow(-1, k, 1).squeeze(-1); // [..., n]
    // Rows above k are out of the running: -1 is below every |a_ik|.
    const atOrBelow = mask(a, n, (i) => i >= k, [n]);
    const pick = colK.abs().mul(atOrBelow).add(atOrBelow.sub(1)).argmax({ dim: -1, keepdim: true }); // [..., 1]
    const onePivot = rowIdx.eq(pick).to(a.dtype); // [..., n]
    const pivotRow = onePivot.unsqueeze(-2).matmul(a); // [..., 1, n]
    const rowK = a.narrow(-2, k, 1);
    // Row k becomes the pivot row and the pivot row becomes row k (nothing when they are one).
    a = a.add(mask(a, n, (i) => i === k, [n]).sub(onePivot).unsqueeze(-1).mul(pivotRow.sub(rowK)));
    const stayed = onePivot.narrow(-1, k, 1).squeeze(-1); // 1 when no swap: sign * (2 * stayed - 1)
    const flip = stayed.mul(2).sub(1);
    sign = sign ? sign.mul(flip) : flip;
    const piv = a.narrow(-2, k, 1).narrow(-1, k, 1); // [..., 1, 1]
    const safe = piv.add(piv.eq(0).to(a.dtype));
    const factors = a.narrow(-1, k, 1).div(safe).mul(mask(a, n, (i) => i > k, [n, 1])); // [..., n, 1]
    a = a.sub(factors.mul(a.narrow(-2, k, 1)));
  }
  const eye = fromStorage(storageFrom(a.dtype, Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0))), [n, n], a.dtype, a.device);
  let det = a.mul(eye).sum({ dim: -1 }).prod({ dim: -1 }) as Tensor;
  if (sign) det = det.mul(sign);
  return half ? det.to(x.dtype) : det;
}

register('Det', 11, (ctx: OpContext) => {
  const h = ctx.hostNow(0);
  const shape = (h ?? ctx.tensor(0)).shape, dtype = (h ?? ctx.tensor(0)).dtype;
  if (!isFloat(dtype)) ctx.fail(`takes float matrices, got ${dtype}`);
  if (shape.length < 2 || shape[shape.length - 1] !== shape[shape.length - 2]) ctx.fail(`takes [..., M, M] square matrices, got [${shape.join(', ')}]`);
  const n = shape[shape.length - 1]!;
  if (h && numel(h.shape) <= HOST_LIMIT) return [detOnHost(h, n)];
  return [tensorDet(ctx.tensor(0))];
});
