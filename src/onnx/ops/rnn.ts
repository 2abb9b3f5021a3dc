/**
 * RNN, GRU and LSTM, unrolled over the sequence as lazy Born ops (one matmul for the input
 * projection of every time step, then one recurrent matmul per step).
 *
 * ONNX layout: W [dirs, gates*H, I], R [dirs, gates*H, H], B [dirs, 2*gates*H] (Wb then Rb);
 * gate order RNN: one; GRU: z, r, h; LSTM: i, o, f, c; LSTM peepholes P [dirs, 3*H] as i, o, f.
 * Outputs Y [seq, dirs, batch, H], Y_h and Y_c [dirs, batch, H]; layout=1 (opset 14) puts batch
 * first in X, Y, Y_h, Y_c, initial_h and initial_c.
 *
 * sequence_lens: steps at and past a batch entry's length leave its state unchanged and give
 * zeros in Y; the reverse direction starts at each entry's own last step (a gather reorders the
 * steps per entry so one loop serves every entry).
 */
import { full } from '../../tensor/creation.js';
import { stack } from '../../tensor/join.js';
import type { Tensor } from '../../tensor/tensor.js';
import { host, toTensor } from '../host.js';
import { register, type OpContext } from './registry.js';

type Act = (x: Tensor) => Tensor;

/** x[i] along dim 0, that dim dropped. */
const pick = (x: Tensor, i: number): Tensor => x.slice(0, i, i + 1).squeeze(0);

/** ONNX's activation names -> functions; alpha/beta defaults as in the ONNX operator docs. */
const ACTIVATIONS: Record<string, { make: (a: number, b: number) => Act; alpha?: number; beta?: number }> = {
  relu: { make: () => (x) => x.relu() },
  tanh: { make: () => (x) => x.tanh() },
  sigmoid: { make: () => (x) => x.sigmoid() },
  affine: { make: (a, b) => (x) => x.mul(a).add(b), alpha: 1, beta: 0 },
  leakyrelu: { make: (a) => (x) => x.leakyRelu(a), alpha: 0.01 },
  thresholdedrelu: { make: (a) => (x) => x.mul(x.gt(a).to(x.dtype)), alpha: 1 },
  scaledtanh: { make: (a, b) => (x) => x.mul(b).tanh().mul(a), alpha: 1, beta: 1 },
  hardsigmoid: { make: (a, b) => (x) => x.mul(a).add(b).clamp(0, 1), alpha: 0.2, beta: 0.5 },
  elu: { make: (a) => (x) => x.elu(a), alpha: 1 },
  softsign: { make: () => (x) => x.div(x.abs().add(1)) },
  softplus: { make: () => (x) => x.softplus() },
};

/**
 * The activations for each direction (the defaults repeated per direction when the attribute
 * is absent); activation_alpha/beta are consumed in order by the activations that take them.
 */
function activations(ctx: OpContext, dirs: number, defaults: readonly string[]): Act[][] {
  const n = defaults.length;
  const names = ctx.attr.strings('activations', Array.from({ length: dirs }, () => defaults).flat());
  if (names.length !== n * dirs) ctx.fail(`activations needs ${n * dirs} names (${n} per direction), got ${names.length}`);
  const alphas = ctx.attr.floats('activation_alpha', []), betas = ctx.attr.floats('activation_beta', []);
  let ai = 0, bi = 0;
  const acts = names.map((name) => {
    const a = ACTIVATIONS[name.toLowerCase()];
    if (!a) return ctx.fail(`activation ${name} is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
    const alpha = a.alpha === undefined ? 0 : alphas[ai++] ?? a.alpha;
    const beta = a.beta === undefined ? 0 : betas[bi++] ?? a.beta;
    return a.make(alpha, beta);
  });
  return Array.from({ length: dirs }, (_, d) => acts.slice(d * n, (d + 1) * n));
}

/** What one cell step sees: the step's input projection (Wb added) and the recurrent state. */
interface State { h: Tensor; c?: Tensor }
type Step = (xw: Tensor, s: State) => State;

interface DirWeights {
  readonly R: Tensor; // [gates*H, H]
  readonly Rb: Tensor | undefined; // [gates*H]
  readonly P: Tensor | undefined; // [3*H] (LSTM)
  readonly act: Act[];
}

type MakeStep = (ctx: OpContext, w: DirWeights, H: number, clip: (x: Tensor) => Tensor) => Step;

const gate = (x: Tensor, k: number, H: number): Tensor => x.slice(-1, k * H, (k + 1) * H);

const rnnStep: MakeStep = (_ctx, w, _H, clip) => (xw, s) => {
  let g = xw.add(s.h.matmul(w.R.T));
  if (w.Rb) g = g.add(w.Rb);
  return { h: w.act[0]!(clip(g)) };
};

const gruStep: MakeStep = (ctx, w, H, clip) => {
  const lbr = ctx.attr.int('linear_before_reset', 0) !== 0;
  const [f, g] = [w.act[0]!, w.act[1]!];
  const Rh = w.R.slice(0, 2 * H, 3 * H), Rbh = w.Rb && gate(w.Rb, 2, H);
  return (xw, s) => {
    let hr = s.h.matmul(w.R.T);
    if (w.Rb) hr = hr.add(w.Rb);
    const z = f(clip(gate(xw, 0, H).add(gate(hr, 0, H))));
    const r = f(clip(gate(xw, 1, H).add(gate(hr, 1, H))));
    let rec: Tensor;
    if (lbr) rec = r.mul(gate(hr, 2, H));
    else {
      rec = r.mul(s.h).matmul(Rh.T);
      if (Rbh) rec = rec.add(Rbh);
    }
    const ht = g(clip(gate(xw, 2, H).add(rec)));
    return { h: z.neg().add(1).mul(ht).add(z.mul(s.h)) };
  };
};

const lstmStep: MakeStep = (ctx, w, H, clip) => {
  const coupled = ctx.attr.int('input_forget', 0) !== 0;
  const [f, g, h] = [w.act[0]!, w.act[1]!, w.act[2]!];
  const peep = (x: Tensor, k: number, c: Tensor): Tensor => (w.P ? x.add(gate(w.P, k, H).mul(c)) : x);
  return (xw, s) => {
    let gs = xw.add(s.h.matmul(w.R.T));
    if (w.Rb) gs = gs.add(w.Rb);
    const c0 = s.c!;
    const i = f(clip(peep(gate(gs, 0, H), 0, c0)));
    const fg = coupled ? i.neg().add(1) : f(clip(peep(gate(gs, 2, H), 2, c0)));
    const c = fg.mul(c0).add(i.mul(g(clip(gate(gs, 3, H)))));
    const o = f(clip(peep(gate(gs, 1, H), 1, c)));
    return { h: o.mul(h(c)), c };
  };
};

function build(kind: 'RNN' | 'GRU' | 'LSTM', gates: number, defaults: readonly string[], makeStep: MakeStep) {
  return async (ctx: OpContext): Promise<(Tensor | undefined)[]> => {
    const a = ctx.attr;
    const H = a.int('hidden_size');
    const direction = a.string('direction', 'forward');
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) ctx.fail(`direction ${direction} is not forward, reverse or bidirectional`);
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const batchFirst = a.int('layout', 0) !== 0;
    if (kind === 'LSTM' && a.int('output_sequence', 0) !== 0 && ctx.opset < 7) ctx.fail('output_sequence (LSTM-1) is not supported');
    const clipAt = a.has('clip') ? a.float('clip') : undefined;
    const clip = (x: Tensor): Tensor => (clipAt === undefined ? x : x.clamp(-clipAt, clipAt));
    const acts = activations(ctx, dirs, defaults);

    let X = ctx.tensor(0);
    if (X.ndim !== 3) ctx.fail(`X must be 3-D, got [${X.shape.join(', ')}]`);
    if (batchFirst) X = X.transpose(0, 1);
    const [S, Bn] = [X.shape[0]!, X.shape[1]!];
    const W = ctx.tensor(1), R = ctx.tensor(2);
    if (W.shape[0] !== dirs || W.shape[1] !== gates * H || R.shape[1] !== gates * H || R.shape[2] !== H) {
      ctx.fail(`W [${W.shape.join(', ')}] / R [${R.shape.join(', ')}] do not fit ${dirs} direction(s), ${gates} gate(s), hidden_size ${H}`);
    }
    const B = ctx.has(3) ? ctx.tensor(3) : undefined;
    const lens = ctx.has(4) ? await ctx.ints(4) : undefined;
    const ragged = lens !== undefined && lens.some((l) => l !== S);
    if (lens && lens.some((l) => l < 0 || l > S)) ctx.fail(`sequence_lens [${lens.join(', ')}] must lie in 0..${S}`);
    const initial = (i: number): Tensor | undefined => {
      if (!ctx.has(i)) return undefined;
      const t = ctx.tensor(i);
      return batchFirst ? t.transpose(0, 1) : t;
    };
    const h0 = initial(5), c0 = kind === 'LSTM' ? initial(6) : undefined;
    const P = kind === 'LSTM' && ctx.has(7) ? ctx.tensor(7) : undefined;
    const zeros = (): Tensor => full([Bn, H], 0, { dtype: X.dtype, device: ctx.device });

    // Per step s: which entries are still inside their sequence (a float mask [batch, 1]).
    const masks = ragged ? Array.from({ length: S }, (_, s) => toTensor(host(X.dtype, [Bn, 1], lens!.map((l) => (s < l ? 1 : 0))), ctx.device)) : undefined;
    // Reverse with ragged lengths: step s of entry b is time lens[b]-1-s (steps past it stay put).
    const order = ragged ? toTensor(host('int32', [S, Bn, 1], Array.from({ length: S * Bn }, (_, k) => {
      const s = Math.floor(k / Bn), l = lens![k % Bn]!;
      return s < l ? l - 1 - s : s;
    })), ctx.device) : undefined;
    const reorder = (t: Tensor): Tensor => t.gather(0, order!.expand([S, Bn, t.shape[2]!]));

    const Ys: Tensor[] = [], Yh: Tensor[] = [], Yc: Tensor[] = [];
    for (let d = 0; d < dirs; d++) {
      const reverse = direction === 'reverse' || d === 1;
      const bias = B && pick(B, d);
      let xw = X.matmul(pick(W, d).T); // [S, batch, gates*H]
      if (bias) xw = xw.add(bias.slice(0, 0, gates * H));
      const w: DirWeights = { R: pick(R, d), Rb: bias?.slice(0, gates * H, 2 * gates * H), P: P && pick(P, d), act: acts[d]! };
      const step = makeStep(ctx, w, H, clip);
      if (reverse && ragged) xw = reorder(xw);
      let st: State = { h: (h0 ? pick(h0, d) : zeros()), c: kind === 'LSTM' ? (c0 ? pick(c0, d) : zeros()) : undefined };
      const outs: Tensor[] = new Array<Tensor>(S);
      for (let s = 0; s < S; s++) {
        const t = reverse && !ragged ? S - 1 - s : s;
        const next = step(pick(xw, t), st);
        if (masks) {
          const m = masks[s]!;
          outs[t] = next.h.mul(m);
          st = { h: st.h.lerp(next.h, m), c: next.c && st.c!.lerp(next.c, m) };
        } else {
          outs[t] = next.h;
          st = next;
        }
      }
      let y = stack(outs, 0);
      if (reverse && ragged) y = reorder(y);
      Ys.push(y);
      Yh.push(st.h);
      if (st.c) Yc.push(st.c);
    }
    const want = (i: number): boolean => (ctx.node.outputs[i] ?? '') !== '';
    let Y = want(0) ? stack(Ys, 1) : undefined; // [S, dirs, batch, H]
    let Y_h = stack(Yh, 0), Y_c = Yc.length ? stack(Yc, 0) : undefined;
    if (batchFirst) {
      Y = Y?.permute([2, 0, 1, 3]);
      Y_h = Y_h.transpose(0, 1);
      Y_c = Y_c?.transpose(0, 1);
    }
    return kind === 'LSTM' ? [Y, Y_h, Y_c] : [Y, Y_h];
  };
}

register('RNN', 1, build('RNN', 1, ['Tanh'], rnnStep));
register('GRU', 1, build('GRU', 3, ['Sigmoid', 'Tanh'], gruStep));
register('LSTM', 1, build('LSTM', 4, ['Sigmoid', 'Tanh', 'Tanh'], lstmStep));
