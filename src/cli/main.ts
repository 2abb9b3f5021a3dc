#!/usr/bin/env node
/**
 * The `born` command: `born train` and `born eval` on Fashion-MNIST, `born export` (their weights
 * as ONNX), `born run` (an ONNX model on
 * .npy inputs), `born info` (what this installation can run on, or what an ONNX model holds), `born bench` (the benchmark suite of a source checkout), `born generate` (text from a language model), `born chat` (a conversation with one), `born serve` (an inference server), `born build` (one executable serving models). Every
 * command answers --help and --version; a mistake in the call (a bad flag value, a missing file)
 * exits with status 2 and a pointer to the command's --help, before any work.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './flags.js';
import { isCommand, USAGE, type Command } from './usage.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** --help / -h and --version, wherever they stand among a command's arguments (before `--`). */
function helpOrVersion(command: Command | 'born', args: readonly string[]): number | null {
  const end = args.indexOf('--');
  const own = end < 0 ? args : args.slice(0, end);
  if (own.includes('--help') || own.includes('-h')) { console.log(USAGE[command]); return 0; }
  if (own.includes('--version')) { console.log(`born ${version()}`); return 0; }
  return null;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  if (command === '--help' || command === '-h') { console.log(USAGE.born); return 0; }
  if (command === '--version' || command === '-v') { console.log(`born ${version()}`); return 0; }
  if (command === 'help') {
    const topic = rest[0];
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`born help: unknown command '${topic}'`);
    console.log(USAGE[topic ?? 'born']);
    return 0;
  }
  if (!isCommand(command)) {
    console.error(`born: unknown command '${command}'\n\n${USAGE.born}`);
    return 2;
  }
  const early = helpOrVersion(command, rest);
  if (early !== null) return early;
  switch (command) {
    case 'info': {
      if (rest.length) return (await import('./onnx.js')).infoCommand(rest);
      console.log(`born ${version()} on Node ${process.version}`);
      console.log(`devices: cpu (${availableParallelism()} worker threads); webgpu: ${await webgpuInfo()}`);
      return 0;
    }
    case 'run':
      return (await import('./onnx.js')).runCommand(rest);
    case 'bench':
      return (await import('./bench.js')).benchCommand(rest, root);
    case 'train':
      return (await import('./train.js')).trainCommand(rest);
    case 'eval':
      return (await import('./train.js')).evalCommand(rest);
    case 'export':
      return (await import('./export.js')).exportCommand(rest);
    case 'generate':
      return (await import('./generate.js')).generateCommand(rest);
    case 'chat':
      return (await import('./chat.js')).chatCommand(rest);
    case 'build':
      return (await import('./build.js')).buildCommand(rest);
    case 'serve':
      return (await import('./serve.js')).serveCommand(rest);
    default:
      throw new Error(`internal: command '${command satisfies never}' has no handler`);
  }
}

main(process.argv.slice(2)).then(
  async (code) => {
    const { engine } = await import('../scheduler/engine.js');
    await engine.shutdown(); // worker threads would keep the process alive
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      const command = /^born (\w+):/.exec(e.message)?.[1];
      console.error(`${e.message}\n(see born ${command && isCommand(command) ? `${command} ` : ''}--help)`);
      process.exit(2);
    }
    console.error(`born: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

/** The WebGPU adapter in words, or why there is none. */
async function webgpuInfo(): Promise<string> {
  const { acquireGpu } = await import('../devices/webgpu/gpu.js');
  try {
    const g = await acquireGpu();
    g.device.destroy();
    return `${g.adapterName}${g.software ? ' (a software adapter: never chosen by --device auto)' : ''}`;
  } catch (e) {
    return `none (${(e as Error).message})`;
  }
}
