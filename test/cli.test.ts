// The born command, run as a user runs it (node dist/cli/main.js, so build first): --data that
// does not hold the data, --out that would overwrite another model's weights or lies in a missing
// directory, numeric flags, --help and --version on every command, and born eval reading the model
// name from the weights file. Training runs on the committed 64-example subset of Fashion-MNIST.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const DATA = fileURLToPath(new URL('./fixtures/fashion-mnist', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface Run { code: number; stdout: string; stderr: string }
function born(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'born-cli-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** A fresh working directory per test. */
const dir = (name: string): string => { const d = join(tmp, name); mkdirSync(d); return d; };
const quick = ['--data', DATA, '--epochs', '1', '--limit', '16', '--batch-size', '8', '--no-install'];

describe('--data', () => {
  test('a directory without the data fails, naming the files it looked for, and looks nowhere else', async () => {
    const cwd = dir('data-empty');
    const empty = join(cwd, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'train-images-idx3-ubyte'), ''); // one of four is not enough
    const r = await born(['train', '--data', empty, '--no-install'], cwd);
    expect(r.code).toBe(2);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      expect(r.stderr).toContain(join(empty, `${f}[.gz]`));
    }
    expect(r.stderr).toContain('missing: train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte');
    expect(r.stderr).not.toContain('/usr/share/datasets'); // not another directory's copy
    expect(r.stdout).not.toContain('epoch');
  });

  test('a directory that does not exist says so', async () => {
    const cwd = dir('data-missing');
    const r = await born(['eval', '--weights', MAIN, '--data', join(cwd, 'nope')], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--data ${join(cwd, 'nope')}: no such directory`);
  });
});

describe('--out', () => {
  test('refuses to overwrite another model\'s weights unless --force; born eval reads the model from the file', async () => {
    const cwd = dir('out-models');
    const first = await born(['train', '--model', 'mlp', ...quick], cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('wrote model.safetensors (model mlp)');
    const mlp = readFileSync(join(cwd, 'model.safetensors'));

    // The README's order of commands: a second model into the default --out.
    const second = await born(['train', '--model', 'cnn', ...quick], cwd);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("--out model.safetensors holds the weights of model 'mlp'");
    expect(second.stderr).toContain('--force');
    expect(second.stdout).not.toContain('epoch'); // refused before training
    expect(readFileSync(join(cwd, 'model.safetensors')).equals(mlp)).toBe(true);

    // The same model again replaces its own weights.
    const again = await born(['train', '--model', 'mlp', ...quick, '--seed', '1'], cwd);
    expect(again.code, again.stderr).toBe(0);

    const forced = await born(['train', '--model', 'cnn', ...quick, '--force'], cwd);
    expect(forced.code, forced.stderr).toBe(0);
    const ev = await born(['eval', '--weights', 'model.safetensors', '--data', DATA], cwd);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/^model cnn: test loss [\d.]+, test accuracy [\d.]+% \(64 examples\)/m);

    const wrong = await born(['eval', '--weights', 'model.safetensors', '--model', 'mlp', '--data', DATA], cwd);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("--model mlp, but model.safetensors holds the weights of model 'cnn'");
  }, 120_000);

  test('a file that born train did not write is kept', async () => {
    const cwd = dir('out-foreign');
    writeFileSync(join(cwd, 'notes.txt'), 'precious');
    const r = await born(['train', ...quick, '--out', 'notes.txt'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out notes.txt is not a safetensors file');
    expect(readFileSync(join(cwd, 'notes.txt'), 'utf8')).toBe('precious');
  });

  test('a missing directory fails before training, naming the path given', async () => {
    const cwd = dir('out-dir');
    const r = await born(['train', ...quick, '--out', 'no/such/dir/m.safetensors'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out no/such/dir/m.safetensors: the directory no/such/dir does not exist');
    expect(r.stdout).not.toContain('epoch');
  });

  test('--checkpoint in a missing directory and a missing --resume fail before training', async () => {
    const cwd = dir('checkpoint');
    const c = await born(['train', ...quick, '--checkpoint', 'gone/ck.safetensors'], cwd);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--checkpoint gone/ck.safetensors: the directory gone does not exist');
    const r = await born(['train', ...quick, '--resume', 'ck.safetensors'], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--resume ck.safetensors: no such file');
    expect(r.stdout + c.stdout).not.toContain('epoch');
  });

  test('eval without --model on a file that names none asks for it', async () => {
    const cwd = dir('eval-nometa');
    // A valid safetensors file with no metadata: header {} and no tensors.
    const header = Buffer.from('{}');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(join(cwd, 'w.safetensors'), Buffer.concat([len, header]));
    const r = await born(['eval', '--weights', 'w.safetensors', '--data', DATA], cwd);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('w.safetensors names no model in its metadata; pass --model (mlp, cnn)');
  });
});

describe('numeric flags are checked before any work, naming the flag', () => {
  const cases: [string[], string][] = [
    [['train', '--lr', 'abc'], "--lr must be a number > 0, got 'abc'"],
    [['train', '--lr', '0'], "--lr must be a number > 0, got '0'"],
    [['train', '--epochs', '1.5'], "--epochs must be an integer >= 1, got '1.5'"],
    [['train', '--epochs', '0'], "--epochs must be an integer >= 1, got '0'"],
    [['train', '--batch-size', '0'], "--batch-size must be an integer >= 1, got '0'"],
    [['train', '--seed=-1'], "--seed must be an integer >= 0, got '-1'"],
    [['train', '--limit', 'ten'], "--limit must be an integer >= 1, got 'ten'"],
    [['eval', '--weights', 'w.safetensors', '--batch-size', ''], "--batch-size must be an integer >= 1, got ''"],
    [['train', '--model', 'resnet'], "--model must be one of mlp, cnn, got 'resnet'"],
  ];
  for (const [args, message] of cases) {
    test(args.join(' '), async () => {
      const cwd = dir(`flags-${args.join('_').replace(/[^\w]/g, '')}`);
      // --data names an empty directory: had the data been looked for first, the error would be about it.
      mkdirSync(join(cwd, 'empty'));
      const r = await born([...args, '--data', join(cwd, 'empty')], cwd);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`born ${args[0]}: ${message}`);
    });
  }
});

describe('--help and --version on every command', () => {
  for (const command of ['train', 'eval', 'info', 'bench']) {
    test(command, async () => {
      const cwd = tmp;
      const help = await born([command, '--help'], cwd);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: born ${command}`));
      expect((await born([command, '-h'], cwd)).stdout).toBe(help.stdout);
      expect((await born(['help', command], cwd)).stdout).toBe(help.stdout);
      const version = await born([command, '--version'], cwd);
      expect(version.code).toBe(0);
      expect(version.stdout.trim()).toBe(`born ${VERSION}`);
    });
  }

  test('born --help, --version and unknown commands', async () => {
    expect((await born(['--help'], tmp)).stdout).toContain('Every command takes --help');
    expect((await born(['--version'], tmp)).stdout.trim()).toBe(`born ${VERSION}`);
    const unknown = await born(['trian'], tmp);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("born: unknown command 'trian'");
  });

  test('an unknown flag names itself and points to the command\'s help', async () => {
    const r = await born(['train', '--epoch', '3'], tmp);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--epoch'");
    expect(r.stderr).toContain('see born train --help');
  });
});
