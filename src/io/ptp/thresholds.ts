// Clock thresholds of one profile (ConfigMap `ptpClockThreshold`), with the reference's corrections applied.

export interface Thresholds {
  /** Offsets strictly above this are out of range (ns). */
  maxOffset: number;
  /** Offsets strictly below this are out of range (ns). */
  minOffset: number;
  /** Holdover lasts this long before the clock is declared FREERUN (seconds). */
  holdOverTimeout: number;
}

export const defaultThresholds: Readonly<Thresholds> = Object.freeze({
  maxOffset: 100,
  minOffset: -100,
  holdOverTimeout: 5,
});

/** The longest delay a Node timer takes (2^31 − 1 ms); a longer one would fire at once. */
export const maxHoldOverTimeout = Math.floor((2 ** 31 - 1) / 1000);

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * From a raw `ptpClockThreshold` object: missing or max ≤ 0 → default max; min > max → max - 1; holdover ≤ 0 →
 * default holdover; holdover above maxHoldOverTimeout (≈ 24.8 days, what a timer can wait) → maxHoldOverTimeout.
 */
export function thresholdsFrom(raw: unknown): Thresholds {
  const o = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  let maxOffset = num(o['maxOffsetThreshold']) ?? defaultThresholds.maxOffset;
  if (maxOffset <= 0) maxOffset = defaultThresholds.maxOffset;
  let minOffset = num(o['minOffsetThreshold']) ?? defaultThresholds.minOffset;
  if (minOffset > maxOffset) minOffset = maxOffset - 1;
  let holdOverTimeout = num(o['holdOverTimeout']) ?? defaultThresholds.holdOverTimeout;
  if (holdOverTimeout <= 0) holdOverTimeout = defaultThresholds.holdOverTimeout;
  if (holdOverTimeout > maxHoldOverTimeout) holdOverTimeout = maxHoldOverTimeout;
  return { maxOffset, minOffset, holdOverTimeout };
}

/** In range = min < offset < max (strict). */
export function inRange(t: Thresholds, offset: number): boolean {
  return offset > t.minOffset && offset < t.maxOffset;
}
