import { describe, expect, it } from 'vitest';
import { inRange, thresholdsFrom } from '../../../src/io/ptp/thresholds.js';

describe('PTP thresholds', () => {
  it('defaults to max 100, min -100, holdover 5 s', () => {
    expect(thresholdsFrom(undefined)).toEqual({ maxOffset: 100, minOffset: -100, holdOverTimeout: 5 });
    expect(thresholdsFrom({ maxOffsetThreshold: 'x' })).toEqual({
      maxOffset: 100,
      minOffset: -100,
      holdOverTimeout: 5,
    });
  });
  it('corrects max ≤ 0, min > max and holdover ≤ 0', () => {
    expect(thresholdsFrom({ maxOffsetThreshold: 0, minOffsetThreshold: -5, holdOverTimeout: 0 })).toEqual({
      maxOffset: 100,
      minOffset: -5,
      holdOverTimeout: 5,
    });
    expect(thresholdsFrom({ maxOffsetThreshold: 20, minOffsetThreshold: 30, holdOverTimeout: -1 })).toEqual({
      maxOffset: 20,
      minOffset: 19,
      holdOverTimeout: 5,
    });
    expect(thresholdsFrom({ maxOffsetThreshold: -3, minOffsetThreshold: 200 })).toEqual({
      maxOffset: 100,
      minOffset: 99,
      holdOverTimeout: 5,
    });
  });
  it('checks the range strictly', () => {
    const t = thresholdsFrom({ maxOffsetThreshold: 10, minOffsetThreshold: -10 });
    expect([inRange(t, 9), inRange(t, 10), inRange(t, -10), inRange(t, -9)]).toEqual([true, false, false, true]);
  });
});
