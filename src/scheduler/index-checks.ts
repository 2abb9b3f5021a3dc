/**
 * Index errors without a sync point: a kernel that reads data-dependent indices records the first
 * out-of-range value in a small error record bound after its inputs (kernel/ir.ts
 * ERROR_RECORD_LENGTH); the schedule reads every record once its kernels have run and rejects its
 * outputs with an IndexError naming the op, the value and the valid range.
 */
import type { Device, DeviceBuffer } from '../devices/device.js';
import { IndexError } from '../graph/errors.js';
import { ERROR_RECORD_LENGTH, type Kernel } from '../kernel/ir.js';

const ZEROS = new Int32Array(ERROR_RECORD_LENGTH);

export class IndexRecords {
  private readonly records: { step: number; buf: DeviceBuffer }[] = [];

  constructor(private readonly device: Device, private readonly steps: readonly { readonly kernel: Kernel }[]) {}

  /** Whether any step bound a record (else there is nothing to report). */
  get bound(): boolean { return this.records.length > 0; }

  /** The extra bindings of step `si`: a zeroed record if its kernel checks indices, else none. */
  bind(si: number): DeviceBuffer[] {
    if (!this.steps[si]!.kernel.indexChecks?.length) return [];
    const buf = this.device.alloc('int32', ERROR_RECORD_LENGTH);
    this.device.write(buf, ZEROS);
    this.records.push({ step: si, buf });
    return [buf];
  }

  /** Throws the IndexError of the first step that recorded a violation; returns the records to the device. */
  async report(): Promise<void> {
    const records = this.records.splice(0);
    try {
      for (const { step, buf } of records) {
        const r = (await this.device.read(buf, 'int32', 2)) as Int32Array;
        if (r[0] !== 0) throw indexError(this.steps[step]!.kernel, r[0]! - 1, r[1]!);
      }
    } finally {
      for (const { buf } of records) this.device.free(buf);
    }
  }
}

export function indexError(k: Kernel, check: number, value: number): IndexError {
  const c = k.indexChecks?.[check];
  if (!c) return new IndexError(`kernel ${k.name}: an index was out of range (check ${check}), value ${value}`, { value });
  const range = c.hi > 0 ? `valid indices are 0 to ${c.hi - 1}` : 'the dim is empty, so no index is valid';
  const sign = value < 0 ? '; negative indices are not supported' : '';
  return new IndexError(
    `${c.op}: index ${value} is out of range for dim ${c.dim} of size ${c.hi} (${range}${sign}): index out of range in self`,
    { op: c.op, value, size: c.hi });
}
