// Noise on a shared machine: how much CPU went to other processes while a benchmark ran
// (bench/run.ts and bench/webgpu.ts), from /proc/stat.

import { readFileSync } from 'node:fs';

/** Above this many CPUs' worth of other work during a peer's run, its figures are flagged noisy. */
export const NOISY = 0.15;

export interface CpuTimes {
  busyS: number;
  stealS: number;
  at: number;
}

export function cpuTimes(): CpuTimes | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    const hz = 100; // USER_HZ on Linux
    return { busyS: (user + nice + system + irq + softirq) / hz, stealS: steal / hz, at: Date.now() };
  } catch {
    return null;
  }
}

/** CPUs' worth of time that went elsewhere (other processes + hypervisor steal) between a and b. */
export function otherLoad(a: CpuTimes | null, b: CpuTimes | null, ownCpuS: number | undefined): number | undefined {
  if (!a || !b || ownCpuS === undefined) return undefined;
  const wall = (b.at - a.at) / 1000;
  if (wall < 0.5) return undefined;
  return Math.max(0, (b.busyS - a.busyS - ownCpuS + (b.stealS - a.stealS)) / wall);
}

export async function backgroundLoad(ms = 1000): Promise<number | undefined> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  return otherLoad(a, cpuTimes(), 0);
}

/** Waits (up to maxS seconds) until other processes use less than NOISY CPUs. */
export async function waitQuiet(maxS: number): Promise<void> {
  const until = Date.now() + maxS * 1000;
  while (Date.now() < until) {
    const load = await backgroundLoad(1000);
    if (load === undefined || load < NOISY) return;
  }
}
