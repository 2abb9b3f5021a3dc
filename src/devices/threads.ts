/** The CPU worker pool's size, as PyTorch's torch.set_num_threads / get_num_threads. */
import { engine } from '../scheduler/engine.js';
import type { CpuDevice } from './cpu-workers/device.js';

const cpu = (): CpuDevice => engine.device('cpu') as CpuDevice;

/**
 * Sets the number of worker threads CPU kernels run on (a positive integer; default: the
 * machine's parallelism). Kernels already running finish on the old pool.
 */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`setNumThreads: the number of threads must be a positive integer, got ${typeof n === 'number' ? n : typeof n}`);
  }
  cpu().setThreads(n);
}

/** The number of worker threads CPU kernels run on. */
export const getNumThreads = (): number => cpu().threadCount;
