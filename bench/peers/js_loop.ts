// Sanity baseline: plain single-threaded JavaScript loops over Float32Arrays, no library.
//   node --expose-gc dist-bench/bench/peers/js_loop.js --workload chain|reduce|matmul [--quick]
// The chain is one fused loop; JS has no Math.erf, so erf is Abramowitz & Stegun 7.1.26
// (one Math.exp, |error| < 1.5e-7). Matmul is the textbook i-k-j loop (no blocking).

import { flops, SIZES } from '../workloads/matmul.js';
import { CASES as REDUCE_CASES, N } from '../workloads/reduce.js';
import { emit, failAll, parsePeerArgs, randnArray, runCase, summarize, timeMs, type CaseResult, type Plan, type Workload } from '../common.js';

function chainLoop(x: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    const base = i * cols;
    for (let j = 0; j < cols; j++) {
      const xv = x[base + j]!;
      const v = xv * 1.5 + 0.5;
      // erf(v/√2), A&S 7.1.26, inlined
      const z = v * Math.SQRT1_2;
      const a = z < 0 ? -z : z;
      const t = 1 / (1 + 0.3275911 * a);
      let e = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
      if (z < 0) e = -e;
      acc += 0.5 * v * (1 + e) * xv;
    }
    out[i] = acc;
  }
  return out;
}

function sumAll(x: Float32Array): Float32Array {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i]!;
  return Float32Array.of(acc);
}

function sumDim0(x: Float32Array, n: number): Float32Array {
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * n;
    for (let j = 0; j < n; j++) acc[j] += x[base + j]!;
  }
  return Float32Array.from(acc);
}

function sumDim1(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    const base = i * n;
    for (let j = 0; j < n; j++) acc += x[base + j]!;
    out[i] = acc;
  }
  return out;
}

function matmulIkj(a: Float32Array, b: Float32Array, n: number): Float32Array {
  const c = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k]!;
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j]!;
    }
  }
  return c;
}

let sink = 0;
const keep = (r: Float32Array): void => {
  sink += r[0]!;
};

async function chain(plan: Plan): Promise<CaseResult[]> {
  const x = randnArray(N * N, 1);
  return [
    await runCase('chain', 'ms', async () =>
      summarize('chain', 'ms', await timeMs(() => keep(chainLoop(x, N, N)), plan), {
        note: 'one fused loop, 1 thread; erf = A&S 7.1.26 (Math.exp)',
      }),
    ),
  ];
}

async function reduce(plan: Plan): Promise<CaseResult[]> {
  const x = randnArray(N * N, 1);
  const fns = { sum_all: () => sumAll(x), sum_dim0: () => sumDim0(x, N), sum_dim1: () => sumDim1(x, N) };
  const out: CaseResult[] = [];
  for (const c of REDUCE_CASES) {
    out.push(await runCase(c.id, 'ms', async () => summarize(c.id, 'ms', await timeMs(() => keep(fns[c.id]()), plan))));
  }
  return out;
}

async function matmul(plan: Plan): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const n of SIZES) {
    const id = `matmul_${n}`;
    const a = randnArray(n * n, 2);
    const b = randnArray(n * n, 3);
    out.push(
      await runCase(id, 'ms', async () =>
        summarize(id, 'ms', await timeMs(() => keep(matmulIkj(a, b, n)), plan), { flops: flops(n), note: 'naive i-k-j loop' }),
      ),
    );
  }
  return out;
}

const args = parsePeerArgs();
let cases: CaseResult[];
try {
  const work = { chain, reduce, matmul } as Partial<Record<Workload, (p: Plan) => Promise<CaseResult[]>>>;
  const fn = work[args.workload];
  if (!fn) throw new Error('not applicable');
  cases = await fn(args.plan);
} catch (e) {
  cases = failAll(args.workload, e);
}
emit({ peer: 'js-loop', workload: args.workload, version: `node ${process.version}, 1 thread`, cases });
if (sink === 42.4242) console.log('');
process.exit(0);
