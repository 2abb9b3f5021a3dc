/** How a module prints: PyTorch's repr of the module tree, then its parameter count. */
import type { Tensor } from '../tensor/tensor.js';

/** The part of Module that printing reads (a type only: module.ts imports this file). */
interface Printable {
  extraRepr(): string;
  namedChildren(): [string, Printable][];
  namedParameters(): [string, Tensor][];
}

/** Lines after the first indented by two spaces, as PyTorch's _addindent. */
const indent = (s: string): string => s.split('\n').join('\n  ');

/** `Name(extra)` for a leaf; `Name(\n  extra\n  (child): …\n)` for a module with children. */
export function treeRepr(m: Printable): string {
  const name = m.constructor.name;
  const extra = m.extraRepr();
  const kids = m.namedChildren();
  const lines = extra ? extra.split('\n') : [];
  for (const [k, c] of kids) lines.push(`(${k}): ${indent(treeRepr(c))}`);
  if (!kids.length && lines.length <= 1) return `${name}(${extra})`;
  return `${name}(\n  ${lines.join('\n  ')}\n)`;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The tree, then `Total parameters: N (trainable: M)` (left out for a module without
 * parameters, `ReLU()`, as PyTorch prints it); a parameter shared by two modules counts once.
 */
export function moduleRepr(m: Printable): string {
  const params = [...new Set(m.namedParameters().map(([, p]) => p))];
  const total = params.reduce((n, p) => n + p.numel(), 0);
  const trainable = params.reduce((n, p) => n + (p.requiresGrad ? p.numel() : 0), 0);
  if (!params.length) return treeRepr(m);
  return `${treeRepr(m)}\nTotal parameters: ${count(total)} (trainable: ${count(trainable)})`;
}

/** A float as Python's repr prints it (1e-05, 0.1): the exponent form below 1e-4. */
export function pyFloat(v: number): string {
  if (v !== 0 && Number.isFinite(v) && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e16)) {
    const [m, e] = v.toExponential().split('e') as [string, string];
    const sign = e.startsWith('-') ? '-' : '+';
    return `${m}e${sign}${e.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return Number.isInteger(v) && Number.isFinite(v) ? `${v}.0` : String(v);
}
