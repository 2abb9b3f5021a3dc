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
}

export const hostProfile: HostProfile = { enabled: false, schedules: 0, nodes: 0, walkMs: 0, prepareMs: 0, executeSyncMs: 0 };

export function resetHostProfile(): void {
  hostProfile.schedules = 0;
  hostProfile.nodes = 0;
  hostProfile.walkMs = 0;
  hostProfile.prepareMs = 0;
  hostProfile.executeSyncMs = 0;
}
