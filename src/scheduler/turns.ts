/**
 * Turns of the event loop. Born runs inside Node services, and their event loop is theirs: a
 * kernel that runs inline resolves its promise at once, so a long schedule, or many concurrent
 * ones, would otherwise run in microtasks for as long as there is work, and timers, I/O and
 * FinalizationRegistry callbacks (which free dropped tensors) would wait for all of it.
 *
 * Schedules ask yieldIfDue() between kernels. One budget is shared by every schedule: once the
 * main thread has gone BUDGET_MS without a macrotask turn, or the engine has allocated
 * MEMORY_BUDGET bytes of device memory since the last turn (finalizers of dropped tensors may
 * be waiting to give memory back), it returns a promise that resolves on the next turn
 * (setImmediate). Waiters resume in order; one that resumes to find the budget already spent by
 * those before it goes to the front of the next turn, so concurrent schedules take turns and none
 * starves.
 */

/** Main-thread time the engine may run without letting the event loop turn. */
export const BUDGET_MS = 3;
/** Device memory the engine may allocate without a turn. */
export const MEMORY_BUDGET = 16 * 2 ** 20;

// Taken at import, so that a test that fakes timers (and the clock) later does not stop the engine.
const immediate = setImmediate;
const clock = performance.now.bind(performance);

/** Counters for tests and benchmarks: macrotask turns the engine waited for, and its waits. */
export const turnStats = { turns: 0, waits: 0 };

/** performance.now() at the first engine work since the last turn; -1 when none yet. */
let since = -1;
let bytes = 0;
let head: (() => void)[] = [];
let tail: (() => void)[] = [];

function onTurn(): void {
  since = -1;
  bytes = 0;
  const wake = head.length ? head.concat(tail) : tail;
  head = [];
  tail = [];
  if (wake.length) turnStats.turns++;
  for (const r of wake) r();
}

/** Starts the clock on the first work after a turn; the immediate scheduled here is that turn. */
function due(): boolean {
  const now = clock();
  if (since < 0) {
    since = now;
    immediate(onTurn);
    return bytes >= MEMORY_BUDGET;
  }
  return now - since >= BUDGET_MS || bytes >= MEMORY_BUDGET;
}

async function wait(): Promise<void> {
  turnStats.waits++;
  let front = false;
  for (;;) {
    await new Promise<void>((r) => (front ? head : tail).push(r));
    if (!due()) return;
    front = true;
  }
}

/** performance.now() when the engine last finished a stretch of work (a schedule's kernels, a read); -1 when none. */
let lastWork = -1;

/**
 * A new schedule starts. If the engine did no work for a whole budget before it, that time was the
 * caller's (its own code, a gc()), not the engine's: the budget starts again now, so a call after
 * a pause does not wait a turn for time it did not spend. The turn already asked for still comes.
 */
export function workStarts(): void {
  if (since < 0 || lastWork < 0) return;
  const now = clock();
  if (now - lastWork >= BUDGET_MS && now - since >= BUDGET_MS) since = now;
}

/** The engine finished a stretch of work (see workStarts). */
export function workDone(): void {
  lastWork = clock();
}

/** A promise for the next turn of the event loop when the engine has used its budget, else null (go on). */
export function yieldIfDue(): Promise<void> | null {
  return due() ? wait() : null;
}

/** Counts device memory the engine allocated toward the memory budget. */
export function noteAllocated(n: number): void {
  bytes += n;
}
