#!/usr/bin/env node
/**
 * The `born` command. `born bench` runs the benchmark suite of a source checkout; `born info`
 * prints what this installation can run on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

const usage = `usage: born <command> [options]

commands:
  train [options]      train on Fashion-MNIST: --model mlp|cnn --epochs N --data DIR --out FILE
                       [--batch-size 256 --lr 0.001 --seed 0 --checkpoint FILE --resume FILE --limit N]
  eval [options]       test accuracy of saved weights: --model mlp|cnn --weights FILE --data DIR
  info                 version, devices and worker threads
  bench [options]      the benchmark table against peers (source checkout; options go to bench/run)
  help                 this text`;

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function bench(args: string[]): number {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const config = path.join(root, 'tsconfig.bench.json');
  if (!existsSync(config) || !existsSync(tsc)) {
    console.error('born bench: the benchmark suite ships with the source checkout (bench/ and its dev dependencies); run it there with `npm run bench`.');
    return 2;
  }
  const build = spawnSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit', cwd: root });
  if (build.status !== 0) return build.status ?? 1;
  const run = spawnSync(process.execPath, [path.join(root, 'dist-bench', 'bench', 'run.js'), ...args], { stdio: 'inherit', cwd: root });
  return run.status ?? 1;
}

async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv.slice(0, 1), allowPositionals: true, strict: false });
  const [command = 'help'] = positionals;
  switch (command) {
    case 'info':
      console.log(`born ${version()} on Node ${process.version}`);
      console.log(`devices: cpu (${availableParallelism()} worker threads); webgpu: not in this build yet`);
      return 0;
    case 'bench':
      return bench(argv.slice(1));
    case 'train':
      return (await import('./train.js')).trainCommand(argv.slice(1));
    case 'eval':
      return (await import('./train.js')).evalCommand(argv.slice(1));
    case 'help': case '--help': case '-h':
      console.log(usage);
      return 0;
    default:
      console.error(`born: unknown command '${command}'\n\n${usage}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  async (code) => {
    const { engine } = await import('../scheduler/engine.js');
    await engine.shutdown(); // worker threads would keep the process alive
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`born: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
