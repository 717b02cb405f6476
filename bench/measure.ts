// What every benchmark reports, and the small timing toolkit they share: medians over runs, a monotonic clock and a
// bounded wait. A figure is always taken side by side with its ceiling in the same process and the same run.
import { setTimeout as sleep } from 'node:timers/promises';

export interface Figure {
  id: string;
  title: string;
  /** The measured figure and its unit (e.g. lines/s, ms). */
  figure: number;
  unit: string;
  /** The physical ceiling it is compared with, measured in the same run. */
  ceiling: number;
  ceilingLabel: string;
  /** figure / ceiling (or as the target defines it). */
  ratio: number;
  /** Human-readable target, e.g. "ratio >= 0.5". */
  target: string;
  /** undefined when not measured. */
  met: boolean | undefined;
  runs: number;
  /** Per-run raw values, for the record. */
  samples?: { figure: number[]; ceiling: number[] };
  notes: string[];
}

export const now = (): number => performance.now();

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Polls `done` every `everyMs` until it holds; throws after `timeoutMs` (every benchmark wait is bounded). */
export async function waitFor(what: string, done: () => boolean, timeoutMs = 30_000, everyMs = 1): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() > deadline) throw new Error(`benchmark: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Async variant of waitFor. */
export async function waitForAsync(
  what: string,
  done: () => Promise<boolean>,
  timeoutMs = 30_000,
  everyMs = 5,
): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!(await done())) {
    if (now() > deadline) throw new Error(`benchmark: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const fmt = (v: number, digits = 3): string => {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
};
