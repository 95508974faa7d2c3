import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  RESPONSE_CACHE_WINDOW_MS,
  resendDelaySeconds,
} from '../../functions/retry-queue/backoff';

const policy = { baseSeconds: 5, maxDelaySeconds: 900 };

describe('backoffSeconds', () => {
  it('grows the ceiling exponentially (full jitter at its top)', () => {
    expect([1, 2, 3, 4].map((a) => backoffSeconds(a, policy, () => 0.999999))).toEqual([5, 10, 20, 40]);
  });
  it('can be as short as zero (full jitter at its bottom)', () => {
    expect(backoffSeconds(6, policy, () => 0)).toBe(0);
  });
  it('is capped by the policy and by SQS', () => {
    expect(backoffSeconds(30, policy, () => 0.999999)).toBe(900);
    expect(backoffSeconds(30, { baseSeconds: 5, maxDelaySeconds: 60 }, () => 0.999999)).toBe(60);
  });
  it('honours Retry-After, capped at 900 s', () => {
    expect(backoffSeconds(1, policy, () => 0, 12_500)).toBe(13);
    expect(backoffSeconds(1, policy, () => 0, 3_600_000)).toBe(900);
  });
});

describe('resendDelaySeconds', () => {
  it('starts small and grows x1.5 up to 60 s', () => {
    expect([0, 1, 2, 3, 10].map((n) => resendDelaySeconds(n, 5, 0, 0))).toEqual([5, 8, 11, 17, 60]);
  });
  it('stops before ESET drops the cached answer', () => {
    expect(resendDelaySeconds(0, 5, 0, RESPONSE_CACHE_WINDOW_MS - 20_000)).toBeUndefined();
  });
});
