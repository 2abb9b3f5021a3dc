/**
 * Main-thread time the scheduler spends before a schedule's kernels start: walking the graph,
 * finding (or making) its plan, claiming and allocating buffers. Off unless a benchmark turns it
 * on (bench/host-overhead.ts), so a step pays two clock reads per schedule only when measured.
 */
export interface HostProfile {
  enabled: boolean;
  /** Schedules started while enabled. */
  schedules: number;
  /** Nodes the walks visited. */
  nodes: number;
  /** Walk, key and plan lookup (planning, on a miss). */
  walkMs: number;
  /** Claiming, allocating and binding buffers, up to the first kernel. */
  prepareMs: number;
  /** The synchronous part of running the schedule (kernels that run inline before the first await). */
  executeSyncMs: number;
  /** Kernels that ran inline on the calling thread, and the time device.run took for them. */
  inlineKernels: number;
  inlineMs: number;
  /** Kernels sent to the pool, and the calling thread's time to send them (device.run's synchronous part). */
  poolKernels: number;
  dispatchMs: number;
}

export const hostProfile: HostProfile = { enabled: false, schedules: 0, nodes: 0, walkMs: 0, prepareMs: 0, executeSyncMs: 0, inlineKernels: 0, inlineMs: 0, poolKernels: 0, dispatchMs: 0 };

export function resetHostProfile(): void {
  hostProfile.schedules = 0;
  hostProfile.nodes = 0;
  hostProfile.walkMs = 0;
  hostProfile.prepareMs = 0;
  hostProfile.executeSyncMs = 0;
  hostProfile.inlineKernels = 0;
  hostProfile.inlineMs = 0;
  hostProfile.poolKernels = 0;
  hostProfile.dispatchMs = 0;
}
