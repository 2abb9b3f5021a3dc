/**
 * The command stream of one GPUDevice: every kernel of a schedule goes into one compute pass of
 * one command encoder and is sent with one submit (9 µs a dispatch on lavapipe, against 68 µs
 * when each is submitted and awaited). Writes and reads keep their place in that order: a write
 * while commands wait in the encoder is encoded as a copy after them, a read sends what waits
 * first. Errors of everything issued since the last submit are caught by one error scope and
 * reject that submit's flush.
 */
import { DeviceError } from '../../graph/errors.js';

export class CommandQueue {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Commands in the encoder not yet submitted. */
  private pending = 0;
  /** Buffers the encoded commands use only once (uniforms, staging): destroyed when they have run. */
  private garbage: GPUBuffer[] = [];
  /** An error reported outside every scope (uncapturederror): it fails the next flush. */
  private stray: string | null = null;
  /** Dispatches issued since the device opened. */
  dispatches = 0;

  constructor(private readonly device: GPUDevice) {
    device.addEventListener('uncapturederror', (e) => {
      // dawn.node prints uncaptured errors to stdout unless the event is handled.
      e.preventDefault();
      this.stray ??= (e as GPUUncapturedErrorEvent).error.message;
    });
  }

  private open(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  computePass(): GPUComputePassEncoder {
    this.pending++;
    return (this.pass ??= this.open().beginComputePass());
  }

  /** A buffer the commands encoded so far use, freed once they have run. */
  once(buf: GPUBuffer): void {
    this.garbage.push(buf);
  }

  /** Writes `data` into `dst` after every command issued so far. */
  write(dst: GPUBuffer, data: ArrayBufferView): void {
    if (this.pending === 0) {
      this.device.queue.writeBuffer(dst, 0, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    const staging = this.device.createBuffer({ size: dst.size, usage: GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    staging.unmap();
    this.copy(staging, dst, data.byteLength);
    this.once(staging);
  }

  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    this.pass?.end();
    this.pass = null;
    this.open().copyBufferToBuffer(src, 0, dst, 0, bytes);
    this.pending++;
  }

  /** Sends what waits; settles once it has run, rejecting with the first error it met. */
  async flush(): Promise<void> {
    if (!this.encoder) return this.failStray();
    this.pass?.end();
    this.pass = null;
    const cmd = this.encoder.finish();
    this.encoder = null;
    this.pending = 0;
    const garbage = this.garbage;
    this.garbage = [];
    this.device.queue.submit([cmd]);
    const validation = this.device.popErrorScope();
    const memory = this.device.popErrorScope();
    try {
      const [v, m] = await Promise.all([validation, memory, this.device.queue.onSubmittedWorkDone()]);
      const err = v ?? m;
      if (err) throw new DeviceError(`webgpu: ${err.message.trim()}`);
      this.failStray();
    } finally {
      for (const b of garbage) b.destroy();
    }
  }

  private failStray(): void {
    const s = this.stray;
    this.stray = null;
    if (s !== null) throw new DeviceError(`webgpu: ${s.trim()}`);
  }

  /** Copies the first `bytes` of `src` out, after everything issued so far. */
  async read(src: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      this.copy(src, staging, size);
      await this.flush();
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }
}
