// A minimal WebAssembly binary assembler: just the opcodes the matmul kernels
// use, so the module can be generated at run time without a toolchain.

import { ARENA_MAX_PAGES } from '../arena.js';

export function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

export function wasmName(s: string, out: number[]): void {
  uleb(s.length, out);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

export const I32 = 0x7f;
const V128 = 0x7b;

/** A function body under construction: locals are numbered params first. */
export class Asm {
  readonly code: number[] = [];
  private nextLocal: number;
  private readonly i32Locals: number[] = [];
  private readonly v128Locals: number[] = [];
  constructor(readonly nParams: number) {
    this.nextLocal = nParams;
  }
  i32Local(): number {
    const l = this.nextLocal++;
    this.i32Locals.push(l);
    return l;
  }
  v128Local(): number {
    const l = this.nextLocal++;
    this.v128Locals.push(l);
    return l;
  }
  get(l: number): this { this.code.push(0x20); uleb(l, this.code); return this; }
  set(l: number): this { this.code.push(0x21); uleb(l, this.code); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(v, this.code); return this; }
  add(): this { this.code.push(0x6a); return this; }
  sub(): this { this.code.push(0x6b); return this; }
  mul(): this { this.code.push(0x6c); return this; }
  geu(): this { this.code.push(0x4f); return this; }
  eqz(): this { this.code.push(0x45); return this; }
  block(): this { this.code.push(0x02, 0x40); return this; }
  loop(): this { this.code.push(0x03, 0x40); return this; }
  if(): this { this.code.push(0x04, 0x40); return this; }
  else(): this { this.code.push(0x05); return this; }
  end(): this { this.code.push(0x0b); return this; }
  br(d: number): this { this.code.push(0x0c); uleb(d, this.code); return this; }
  brIf(d: number): this { this.code.push(0x0d); uleb(d, this.code); return this; }
  /** Scalar memory op (0x28 i32.load ... 0x37 i64.store) with memarg. */
  mem(op: number, align: number, offset: number): this {
    this.code.push(op);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }
  simd(op: number): this { this.code.push(0xfd); uleb(op, this.code); return this; }
  /** i8x16.shuffle of the two v128 on the stack, lanes given as `laneBytes`-byte lanes. */
  shuffle(lanes: number[], laneBytes: number): this {
    this.simd(0x0d);
    for (const l of lanes) for (let x = 0; x < laneBytes; x++) this.code.push(l * laneBytes + x);
    return this;
  }
  simdMem(op: number, align: number, offset: number): this {
    this.simd(op);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }
  /** local += c */
  inc(l: number, c: number | (() => void)): this {
    this.get(l);
    if (typeof c === 'number') this.i32(c);
    else c();
    return this.add().set(l);
  }
  /** `for (l = n; l != 0; l--) body()` */
  countdown(l: number, n: () => void, body: () => void): this {
    n();
    this.set(l).block().loop();
    this.get(l).eqz().brIf(1);
    body();
    this.get(l).i32(1).sub().set(l).br(0).end().end();
    return this;
  }
  /** `for (l = 0; l < n; l++) body()` */
  upto(l: number, n: number, body: () => void): this {
    this.i32(0).set(l).block().loop();
    this.get(l).get(n).geu().brIf(1);
    body();
    this.inc(l, 1).br(0).end().end();
    return this;
  }
  body(): number[] {
    const out: number[] = [];
    const groups: [number, number][] = [];
    if (this.i32Locals.length) groups.push([this.i32Locals.length, I32]);
    if (this.v128Locals.length) groups.push([this.v128Locals.length, V128]);
    // Locals are declared in groups by type, so i32 locals must precede v128 ones.
    const order = [...this.i32Locals, ...this.v128Locals];
    for (let x = 0; x < order.length; x++) {
      if (order[x] !== this.nParams + x) throw new Error('matmul: wasm locals declared out of order');
    }
    uleb(groups.length, out);
    for (const [n, t] of groups) { uleb(n, out); out.push(t); }
    out.push(...this.code, 0x0b);
    return out;
  }
}

export const SIMD_LOAD = 0x00, SIMD_LOAD32_SPLAT = 0x09, SIMD_LOAD64_SPLAT = 0x0a, SIMD_STORE = 0x0b, SIMD_CONST = 0x0c;

export function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
}

/** A module of these functions (all parameters i32, no results), exported by name, on imported memory e.m. */
export function linkModule(fns: readonly (readonly [string, Asm])[]): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(fns.length, types);
  for (const [, f] of fns) {
    types.push(0x60);
    uleb(f.nParams, types);
    for (let p = 0; p < f.nParams; p++) types.push(I32);
    types.push(0);
  }
  section(1, types, out);
  const imports: number[] = [1];
  wasmName('e', imports);
  wasmName('m', imports);
  imports.push(0x02, 0x00, 0x01); // memory, min 1 page, no max
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(fns.length, funcs);
  fns.forEach((_, x) => uleb(x, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(fns.length, exports);
  fns.forEach(([n], x) => { wasmName(n, exports); exports.push(0x00); uleb(x, exports); });
  section(7, exports, out);
  const code: number[] = [];
  uleb(fns.length, code);
  for (const [, f] of fns) {
    const body = f.body();
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  return new Uint8Array(out);
}

/**
 * A module of one function, exported as `name`, that imports its memory as e.m: `signature` is
 * the function type after its 0x60 tag (parameter types, then result types, each counted). A
 * `shared` module takes a shared memory (the packed-weight arena, ../arena.ts) and no other.
 */
export function oneFunctionModule(signature: number[], body: number[], name = 'f', shared = false): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(1, [1, 0x60, ...signature], out);
  const imports: number[] = [1];
  wasmName('e', imports);
  wasmName('m', imports);
  if (shared) {
    imports.push(0x02, 0x03, 0x01); // memory, shared, min 1 page, a max (shared memories need one)
    uleb(ARENA_MAX_PAGES, imports);
  } else imports.push(0x02, 0x00, 0x01); // memory, min 1 page, no max
  section(2, imports, out);
  section(3, [1, 0], out);
  const exports: number[] = [1];
  wasmName(name, exports);
  exports.push(0x00, 0);
  section(7, exports, out);
  const code: number[] = [1];
  uleb(body.length, code);
  code.push(...body);
  section(10, code, out);
  return new Uint8Array(out);
}
