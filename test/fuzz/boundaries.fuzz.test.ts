import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRetryBatch,
  checkWebhookCase,
  FuzzStats,
  trackUnhandledRejections,
} from '../../scripts/fuzz/properties';
import { retryBatchArb } from '../../scripts/fuzz/retry-cases';
import { type FuzzRig, startFuzzRig } from '../../scripts/fuzz/rig';
import { webhookCaseArb } from '../../scripts/fuzz/webhook-cases';

/** `npm run fuzz` runs thousands; here a bounded number keeps `npm test` quick. */
const RUNS = 400;

let rig: FuzzRig;
beforeAll(async () => {
  rig = await startFuzzRig();
});
afterAll(async () => {
  await rig.close();
});

describe('the webhook boundary under fuzzing', () => {
  it('never answers 5xx and never lets invalid bodies, headers, signatures or encodings reach ESET or SQS', async () => {
    // Prepare
    const stats = new FuzzStats();
    const rejections = trackUnhandledRejections();

    // Act
    try {
      await fc.assert(
        fc.asyncProperty(webhookCaseArb(rig.knownIncidents, rig.config.maxBodyBytes), (c) =>
          checkWebhookCase(rig, c, { stats }),
        ),
        { numRuns: RUNS },
      );
    } finally {
      rejections.stop();
    }

    // Assess
    expect(rejections.seen).toEqual([]);
    const outcomes = Object.keys(stats.byOutcome);
    expect(outcomes.some((o) => o.startsWith('valid->'))).toBe(true);
    expect(outcomes.some((o) => o.startsWith('invalid->'))).toBe(true);
  });
});

describe('the retry-message boundary under fuzzing', () => {
  it('dead-letters every invalid message untouched, never at ESET, never deleted silently, and never throws', async () => {
    // Prepare
    const stats = new FuzzStats();
    const rejections = trackUnhandledRejections();

    // Act
    try {
      await fc.assert(
        fc.asyncProperty(retryBatchArb(rig.knownIncidents), (batch) =>
          checkRetryBatch(rig, batch, { stats }),
        ),
        { numRuns: RUNS },
      );
    } finally {
      rejections.stop();
    }

    // Assess
    expect(rejections.seen).toEqual([]);
    expect(stats.byOutcome['invalid->dead-lettered']).toBeGreaterThan(0);
    expect(Object.keys(stats.byOutcome).some((o) => o.startsWith('valid->'))).toBe(true);
  });
});
