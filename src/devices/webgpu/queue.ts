/**
 * The command stream of one GPUDevice: every kernel of a schedule goes into one compute pass of
 * one command encoder and is sent with one submit (9 µs a dispatch on lavapipe, against 68 µs
 * when each is submitted and awaited). Writes and reads keep their place in that order: a write
 * while commands wait in the encoder is encoded as a copy after them, a read sends what waits
 * first. Errors of everything issued since the last submit are caught by one error scope and
 * reject that submit's flush. The dispatches of one submit share one uniform buffer, each at its
 * own aligned offset: one buffer made, mapped and freed per schedule, not per dispatch.
 */
import { DeviceError } from '../../graph/errors.js';

/** Bytes of one schedule's uniform buffer: room for 64 dispatches at the guaranteed 256-byte alignment. */
const UNIFORM_CHUNK = 64 * 256;

export class CommandQueue {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Commands in the encoder not yet submitted. */
  private pending = 0;
  /** Buffers the encoded commands use only once (uniforms, staging): destroyed when they have run. */
  private garbage: GPUBuffer[] = [];
  /** An error reported outside every scope (uncapturederror): it fails the next flush. */
  private stray: string | null = null;
  /** Uniform buffers of the commands being encoded, still mapped: unmapped just before the submit. */
  private uniforms: GPUBuffer[] = [];
  /** Bytes of the last of them already handed out. */
  private uniformUsed = 0;
  /** Dispatches issued since the device opened. */
  dispatches = 0;
  /** Uniform buffers made since the device opened (one per submit that has uniforms, in the usual case). */
  uniformBuffers = 0;

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

  /**
   * `bytes` of uniform memory for the next dispatch: its buffer, offset and a mapped view to fill
   * now. Offsets keep the adapter's alignment (256 bytes guaranteed); a schedule whose uniforms
   * outgrow one buffer gets another.
   */
  uniform(bytes: number): { buffer: GPUBuffer; offset: number; range: ArrayBuffer } {
    const align = this.device.limits.minUniformBufferOffsetAlignment;
    let buf = this.uniforms[this.uniforms.length - 1];
    let offset = Math.ceil(this.uniformUsed / align) * align;
    if (!buf || offset + bytes > buf.size) {
      buf = this.device.createBuffer({ size: Math.max(UNIFORM_CHUNK, Math.ceil(bytes / align) * align), usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
      this.uniforms.push(buf);
      this.uniformBuffers++;
      offset = 0;
    }
    this.uniformUsed = offset + bytes;
    return { buffer: buf, offset, range: buf.getMappedRange(offset, bytes) };
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
    // A buffer must be unmapped to be used by a submit; the bind groups made while it was mapped stay valid.
    for (const u of this.uniforms) u.unmap();
    const garbage = this.garbage.concat(this.uniforms);
    this.garbage = [];
    this.uniforms = [];
    this.uniformUsed = 0;
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
