import { msToNumber, type Duration } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { humanDuration } from '../src/domain/durations';

describe('humanDuration', () => {
  it('writes milliseconds the way people wrote them', () => {
    expect(humanDuration(30_000)).toBe('30s');
    expect(humanDuration(120_000)).toBe('2m');
    expect(humanDuration(90_000)).toBe('1m30s');
    expect(humanDuration(5_400_000)).toBe('1h30m');
    expect(humanDuration(86_400_000)).toBe('1d');
    expect(humanDuration(1_500)).toBe('1.5s');
    expect(humanDuration(250)).toBe('250ms');
    expect(humanDuration(0)).toBe('0ms');
  });
  it('reads back to the same milliseconds with the parser the inputs use (whole seconds above a minute)', () => {
    for (const ms of [250, 1_000, 1_500, 30_000, 61_000, 3_600_000, 3_661_000, 7 * 86_400_000 + 1_000]) {
      const text = humanDuration(ms);
      // Temporal's parser reads one unit at a time: add the parts up.
      const parts = text.match(/\d+(?:\.\d+)?(?:ms|d|h|m|s)/g)!;
      expect(parts.join('')).toBe(text);
      expect(parts.reduce((sum, p) => sum + msToNumber(p as Duration), 0)).toBe(ms);
    }
  });
});
