/**
 * A predict body's nested arrays of numbers read straight from its bytes into Float64Arrays.
 * JSON.parse would make a boxed number for every value and an array for every row, which the
 * codec then walks and drops: for a 28x28 image that was ~20% of a server thread's time under load
 * (JSON.parse 13%, the walk 6%) and most of its garbage. This reader takes the common shape of a
 * body only, `{"inputs": nested array}` or `{"inputs": {name: nested array, ...}}` with
 * rectangular, non-empty arrays of JSON numbers, and says `undefined` at the first thing outside
 * it (a string, true/false/null, an empty or ragged array, an escape in a key, a `__proto__` key,
 * bad syntax): the caller then parses the body as before, so every answer, errors included, is
 * the one JSON.parse would have led to.
 *
 * A number is its value exactly as JSON.parse reads it: up to 15 significant digits and a decimal
 * exponent within ±22 make a mantissa and a power of ten that are both exact doubles, so one
 * multiplication or division rounds correctly (Clinger's fast path); any other is read by Number().
 */

/** A nested array of numbers from a JSON body: its shape (outermost first) and values in row-major order. */
export class JsonTensor {
  constructor(readonly shape: readonly number[], readonly data: Float64Array) {}
}

/** Nesting beyond this is left to the codec (it names the limit). */
const MAX_RANK = 32;
/** Keys an object parsed here must not take: left to the default parser's poisoning checks. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const MAX_EXACT_DIGITS = 15;

const QUOTE = 0x22, COMMA = 0x2c, MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30, NINE = 0x39, COLON = 0x3a;
const OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d, OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, BACKSLASH = 0x5c;
const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Values of the tensor being read; one buffer per thread, copied out per tensor. */
let scratch = new Float64Array(4096);

class Reader {
  i = 0;
  /** Values of the current tensor so far. */
  private n = 0;
  /** The current tensor's rank once its first row of numbers is read (-1 before), and its dims so far. */
  private rank = -1;
  private readonly dims: number[] = [];

  constructor(private readonly b: Uint8Array) {}

  /** The next byte after whitespace (-1 at the end), not consumed. */
  peek(): number {
    const b = this.b;
    let i = this.i;
    while (i < b.length && isSpace(b[i]!)) i++;
    this.i = i;
    return i < b.length ? b[i]! : -1;
  }

  /** An object whose values are tensors, or (at the top) objects of tensors; null to give up. */
  object(top: boolean): Record<string, unknown> | null {
    this.i++;
    const out: Record<string, unknown> = {};
    for (;;) {
      if (this.peek() !== QUOTE) return null;
      const key = this.key();
      if (key === null || this.peek() !== COLON) return null;
      this.i++;
      const c = this.peek();
      const value = c === OPEN_BRACKET ? this.tensor() : c === OPEN_BRACE && top ? this.object(false) : null;
      if (value === null) return null;
      out[key] = value;
      const next = this.peek();
      this.i++;
      if (next === CLOSE_BRACE) return out;
      if (next !== COMMA) return null;
    }
  }

  /** A key of plain ASCII without escapes; null otherwise. */
  private key(): string | null {
    const b = this.b, start = ++this.i;
    let i = start;
    for (; i < b.length && b[i] !== QUOTE; i++) {
      const c = b[i]!;
      if (c === BACKSLASH || c < 0x20 || c >= 0x80) return null;
    }
    if (i >= b.length) return null;
    this.i = i + 1;
    const key = String.fromCharCode(...b.subarray(start, i));
    return UNSAFE_KEYS.has(key) ? null : key;
  }

  private tensor(): JsonTensor | null {
    this.n = 0;
    this.rank = -1;
    this.dims.length = 0;
    if (!this.array(0) || this.dims.length !== this.rank) return null;
    return new JsonTensor(this.dims.slice(), scratch.slice(0, this.n));
  }

  /** The array at `depth`, its length checked against its siblings'; false to give up. */
  private array(depth: number): boolean {
    this.i++;
    let c = this.peek(), len = 0;
    if (c === OPEN_BRACKET) {
      if (depth + 1 >= MAX_RANK || (this.rank !== -1 && depth + 1 >= this.rank)) return false;
      for (;;) {
        if (!this.array(depth + 1)) return false;
        len++;
        c = this.peek();
        if (c !== COMMA) break;
        this.i++;
        if (this.peek() !== OPEN_BRACKET) return false;
      }
    } else {
      if (this.rank === -1) this.rank = depth + 1;
      else if (this.rank !== depth + 1) return false;
      const row = this.row();
      if (row < 0) return false;
      len = row;
      c = this.peek();
    }
    if (c !== CLOSE_BRACKET || len === 0) return false;
    this.i++;
    const want = this.dims[depth];
    if (want === undefined) this.dims[depth] = len;
    else if (want !== len) return false;
    return true;
  }

  /** A row of numbers into the tensor's values, up to (not past) its closing bracket: their count, or -1 to give up. */
  private row(): number {
    const b = this.b;
    let i = this.i, n = this.n, count = 0;
    for (;;) {
      const v = numberAt(b, i);
      if (v !== v) return -1;
      i = numberEnd;
      if (n === scratch.length) {
        const grown = new Float64Array(scratch.length * 2);
        grown.set(scratch);
        scratch = grown;
      }
      scratch[n++] = v;
      count++;
      let c = i < b.length ? b[i]! : -1;
      while (isSpace(c)) c = ++i < b.length ? b[i]! : -1;
      if (c !== COMMA) break;
      i++;
    }
    this.i = i;
    this.n = n;
    return count;
  }
}

/** Where the number numberAt() last read ends. */
let numberEnd = 0;

/** The JSON number at b[i] after any whitespace (its end in numberEnd), or NaN if there is none there. */
function numberAt(b: Uint8Array, i: number): number {
  const L = b.length;
  let c = i < L ? b[i]! : -1;
  while (isSpace(c)) c = ++i < L ? b[i]! : -1;
  const start = i;
  const neg = c === MINUS;
  if (neg) c = ++i < L ? b[i]! : -1;
  let m = 0, digits = 0, exp = 0, exact = true;
  if (c === ZERO) {
    c = ++i < L ? b[i]! : -1;
    if (isDigit(c)) return NaN;
  } else if (isDigit(c)) {
    do {
      if (digits < MAX_EXACT_DIGITS) { m = m * 10 + (c - ZERO); digits++; } else { exp++; exact = false; }
      c = ++i < L ? b[i]! : -1;
    } while (isDigit(c));
  } else {
    return NaN;
  }
  if (c === DOT) {
    c = ++i < L ? b[i]! : -1;
    if (!isDigit(c)) return NaN;
    do {
      const d = c - ZERO;
      // Zeros before the first significant digit only move the exponent.
      if (m === 0 && d === 0) exp--;
      else if (digits < MAX_EXACT_DIGITS) { m = m * 10 + d; digits++; exp--; } else exact = false;
      c = ++i < L ? b[i]! : -1;
    } while (isDigit(c));
  }
  if (c === 0x65 || c === 0x45) {
    c = ++i < L ? b[i]! : -1;
    const sign = c === MINUS ? -1 : 1;
    if (c === MINUS || c === PLUS) c = ++i < L ? b[i]! : -1;
    if (!isDigit(c)) return NaN;
    let x = 0;
    do {
      x = Math.min(x * 10 + (c - ZERO), 1e6);
      c = ++i < L ? b[i]! : -1;
    } while (isDigit(c));
    exp += sign * x;
  }
  numberEnd = i;
  let v: number;
  if (m === 0) v = 0;
  else if (exact && exp >= 0 && exp <= 22) v = m * POW10[exp]!;
  else if (exact && exp < 0 && exp >= -22) v = m / POW10[-exp]!;
  else v = Math.abs(Number(String.fromCharCode(...b.subarray(start, i))));
  return neg ? -v : v;
}

/**
 * The body as JSON.parse would read it, with each nested array of numbers a JsonTensor; undefined
 * when the body is not of the shape read here (module comment), to be parsed the usual way.
 */
export function readTensorJson(body: Uint8Array): Record<string, unknown> | undefined {
  const r = new Reader(body);
  if (r.peek() !== OPEN_BRACE) return undefined;
  const out = r.object(true);
  if (out === null || r.peek() !== -1) return undefined;
  return out;
}
