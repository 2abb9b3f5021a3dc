/**
 * `born bench`: issue 9's table (chain, reduce, matmul 256/1024, train-mlp, train-cnn,
 * infer-mlp, infer-cnn) against every peer installed here, in one run, written to
 * bench/RESULTS.md, then its "Done means" summary.
 *
 * It needs the source checkout: the suite is bench/ (TypeScript compiled here with
 * tsconfig.bench.json, Python peers, bench/export_models.py) and its peers are development
 * dependencies (tfjs, onnxruntime-node) and Python packages; the package ships dist/ alone.
 * This file only checks the flags, builds bench/ and starts bench/run.ts, which measures.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { intFlag, parse, UsageError } from './flags.js';

/** The workloads of issue 9's "Done means" (bench/done-means.ts, DONE_MEANS_WORKLOADS). */
export const DONE_MEANS_ONLY = 'chain,reduce,matmul,train-mlp,train-cnn,infer-mlp,infer-cnn';

const FLAGS = {
  quick: { type: 'boolean', default: false },
  only: { type: 'string', default: DONE_MEANS_ONLY },
  peers: { type: 'string', default: 'installed' },
  out: { type: 'string' },
  'no-write': { type: 'boolean', default: false },
  'no-merge': { type: 'boolean', default: false },
  python: { type: 'string' },
  'wait-quiet': { type: 'string' },
  retries: { type: 'string' },
  'timeout-s': { type: 'string' },
  'no-build': { type: 'boolean', default: false },
} as const;

/** The arguments of bench/run.js for `born bench` flags (checked here; run.js checks the names in --only/--peers). */
export function runArgs(argv: string[]): { args: string[]; build: boolean } {
  const { values: v } = parse('bench', argv, FLAGS);
  const args: string[] = ['--only', v.only, '--peers', v.peers];
  if (!v.only.trim()) throw new UsageError("born bench: --only needs a list of workloads, e.g. 'matmul,infer-mlp'");
  if (!v.peers.trim()) throw new UsageError("born bench: --peers needs a list of peers, e.g. 'born,ort', or 'installed'");
  if (v.quick) args.push('--quick');
  if (v.out !== undefined) args.push('--out', path.resolve(v.out));
  if (v['no-write']) args.push('--no-write');
  if (v['no-merge']) args.push('--no-merge');
  if (v.python !== undefined) args.push('--python', v.python);
  if (v['wait-quiet'] !== undefined) args.push('--wait-quiet', String(intFlag('bench', 'wait-quiet', v['wait-quiet'], 0)));
  if (v.retries !== undefined) args.push('--retries', String(intFlag('bench', 'retries', v.retries, 0)));
  if (v['timeout-s'] !== undefined) args.push('--timeout-s', String(intFlag('bench', 'timeout-s', v['timeout-s'], 1)));
  return { args, build: !v['no-build'] };
}

/** Runs the suite from the checkout at `root`; returns the exit status. */
export function benchCommand(argv: string[], root: string): number {
  const { args, build } = runArgs(argv);
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const config = path.join(root, 'tsconfig.bench.json');
  const runner = path.join(root, 'dist-bench', 'bench', 'run.js');
  if (!existsSync(path.join(root, 'bench', 'run.ts')) || !existsSync(config)) {
    console.error(
      'born bench: the benchmark suite is part of the source checkout, not of the package (bench/, its Python peers and its ' +
        'development dependencies tfjs and onnxruntime-node); clone the repository, `npm ci`, `npm run build`, and run `born bench` or `npm run bench` there.',
    );
    return 2;
  }
  if (build) {
    if (!existsSync(tsc)) {
      console.error('born bench: TypeScript is not installed in this checkout (node_modules/typescript): run `npm ci` first.');
      return 2;
    }
    const r = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit', cwd: root });
    if (r.status !== 0) return r.status ?? 1;
  } else if (!existsSync(runner)) {
    console.error(`born bench: --no-build, but ${runner} does not exist: run without --no-build once.`);
    return 2;
  }
  const run = spawnSync(process.execPath, [runner, ...args], { stdio: 'inherit', cwd: root });
  return run.status ?? 1;
}
