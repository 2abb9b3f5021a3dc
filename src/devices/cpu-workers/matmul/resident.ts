// Resident B operands. The few-row kinds ('row', 'dot', unpacked gemm) use each element of B once
// or twice, so staging B into wasm memory on every call (1.6 MB for a 784x512 layer at batch 1)
// cost more than the arithmetic: ~70% of the kernel's time. The packed gemm re-packed a weight on
// every call too (a CNN's [20,1600]x[1600,128] layer: 0.2 of its 0.57 ms). A kernel instead keeps
// its staged (or packed) B in the thread's wasm memory, above every kernel's scratch, and reuses
// it while B's buffer has the same write stamp (../write-stamps.ts): on the device's thread from
// its own stamps, on a worker from those its bindings bring. A buffer never stamped stages every call.
//
// Layout of the thread's wasm memory: [0, $W.sn) scratch (the largest any matmul kernel of this
// flavour has asked for), then the resident region $W.rs = { base, top }. A kernel whose scratch
// outgrows $W.sn drops the region (its copies would be overwritten); one that finds the region
// full starts a new one. A copy is valid only while its region object is $W.rs (an entry only
// seen, with no copy yet, has region null).

import { stampJs } from '../write-stamps.js';

/** Bytes of copies one thread keeps at most per wasm flavour; a larger B is staged every call. */
export const RESIDENT_BYTES = 64 * 1024 * 1024;
/** Slack past each copy: the kernels read whole v128 strips past the last column. */
const SLACK_BYTES = 256;

/**
 * Statements for every matmul kernel of a wasm flavour, before it touches its scratch of `need`
 * bytes: a scratch larger than any before invalidates the resident region above it.
 */
export function scratchGuard(needBytes: number): string {
  return `if (${needBytes} > ($W.sn | 0)) { $W.sn = ${needBytes}; $W.rs = undefined; }`;
}

/** Closure-level statements of a kernel with a resident B: its copies by source offset, and the allocator. */
export function residentSetup(T: string): string {
  return `const $RM = new Map();
  $W.ra ??= function (n) {
    n = Math.ceil((n + ${SLACK_BYTES}) / 64) * 64;
    if (n > ${RESIDENT_BYTES}) return -1;
    let rs = this.rs;
    if (rs === undefined || rs.top + n > rs.base + ${RESIDENT_BYTES}) {
      const base = Math.ceil((this.sn | 0) / 65536) * 65536;
      rs = this.rs = { base, top: base };
    }
    const at = rs.top;
    rs.top += n;
    if (this.mem.buffer.byteLength < rs.top) {
      this.mem.grow(Math.ceil((rs.top - this.mem.buffer.byteLength) / 65536));
      this.f = new ${T}(this.mem.buffer);
    }
    return at;
  };`;
}

export interface ResidentLoad {
  /** Statements staging B's block to the element offset expression `dst` of $F. */
  load: (dst: string) => string;
  /** The source element offset of the block (with $nc, it identifies the copy). */
  key: string;
  /** Bytes of the staged block. */
  bytes: string;
  /** The scratch element offset B is staged to when it is not resident. */
  scratch: number;
  /** Bytes per element. */
  S: number;
}

/**
 * Statements that set `$bs` (byte offset of B's staged block): the resident copy, made now if
 * stale. A copy is made only when a call finds B with the stamp an earlier call saw: an operand
 * that changes every call (im2col's patches, activations) is staged in the scratch, which stays
 * in cache, rather than copied to ever new places in the resident region.
 */
export function residentLoad(r: ResidentLoad): string {
  return `let $bs = ${r.scratch * r.S};
        {
          const $v = ${stampJs('$B')};
          let $e;
          if ($v !== undefined) {
            const $rk = ${r.key};
            $e = $RM.get($rk);
            if ($e === undefined || $e.v !== $v || $e.n !== $nc) {
              $e = undefined;
              $RM.set($rk, { v: $v, n: $nc, r: null, at: -1 });
            } else if ($e.r !== $W.rs) {
              const $at = $W.ra(${r.bytes});
              $F = $W.f;
              if ($at < 0) $e = undefined;
              else {
                const $rd = $at / ${r.S};
                ${r.load('$rd')}
                $e.r = $W.rs;
                $e.at = $at;
              }
            }
          }
          if ($e === undefined) {
            ${r.load(String(r.scratch))}
          } else $bs = $e.at;
        }`;
}
