import { describe, expect, it } from 'vitest';
import { createBridge } from '../../functions/bridge';
import { EsetRequests } from '../../functions/eset/client';
import { functionUrlEvent, signedHeaders, sqsEvent } from '../../infra/local/events';
import { sqsIllegalCharacter, startFuzzRig } from '../../scripts/fuzz/rig';

/**
 * Bugs the fuzzers found, each pinned by its smallest input: regression tests now that they are
 * fixed (BENCHMARKS.md, "Fuzzing").
 */
describe('bugs found by fuzzing', () => {
  it('queues a close whose comment holds U+FFFF as a message SQS accepts', async () => {
    // Prepare
    const rig = await startFuzzRig();
    try {
      const incident = rig.knownIncidents[0] as string;
      rig.sandbox.script(incident, [{ kind: 'status', status: 429 }]);
      const body = JSON.stringify({ incidentUuid: incident, comment: 'reimaged \uFFFF' });

      // Act
      const answer = await rig.receive(
        functionUrlEvent({
          body,
          headers: signedHeaders(body, { timestamp: Math.floor(rig.clock.now() / 1000) }),
        }),
      );

      // Assess
      expect(answer.statusCode).toBe(202);
      const queued = rig.queue.calls.at(-1);
      expect(queued?.op).toBe('enqueue');
      expect(sqsIllegalCharacter(queued?.body ?? '')).toBeUndefined();
    } finally {
      await rig.close();
    }
  });

  it('dead-letters with attributes SQS accepts when ESET explains a refusal with control characters', async () => {
    // Prepare
    const rig = await startFuzzRig();
    try {
      const incident = rig.knownIncidents[0] as string;
      rig.sandbox.script(incident, [
        { kind: 'status', status: 403, body: JSON.stringify({ code: 7, message: 'denied \u0001 \uFFFF' }) },
      ]);
      const message = {
        v: 1,
        request: {
          incidentUuid: incident,
          closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
          comment: 'x',
        },
        phase: 'close',
        attempt: 2,
        firstSeen: new Date(rig.clock.now()).toISOString(),
        correlationId: 'msg_1',
      };

      // Act
      const result = await rig.retry(sqsEvent([JSON.stringify(message)]));

      // Assess
      expect(result.batchItemFailures).toEqual([]);
      const parked = rig.queue.calls.at(-1);
      expect(parked?.op).toBe('deadLetter');
      for (const value of Object.values(parked?.attributes ?? {}))
        expect(sqsIllegalCharacter(value)).toBeUndefined();
    } finally {
      await rig.close();
    }
  });

  it('keeps calling ESET after a 429 that asks for a day-long pause', async () => {
    // Prepare: one 429 with Retry-After of a day, then an ordinary close of another incident.
    const rig = await startFuzzRig();
    try {
      const [first, second] = rig.knownIncidents as [string, string];
      rig.sandbox.setFaults(undefined);
      rig.sandbox.script(first, [{ kind: 'status', status: 429, retryAfter: '86400' }]);
      const bridge = createBridge(rig.config, { clock: rig.clock, sqs: rig.sqsClient });
      const close = (incidentUuid: string) =>
        bridge.eset.send(EsetRequests.close(incidentUuid, 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE', 'x'), {
          // A budget far longer than any backoff the bridge itself would choose (at most 15 minutes).
          deadline: rig.clock.now() + 20 * 60_000,
          timeoutMs: 60_000,
        });

      // Act
      await close(first);
      const next = await close(second);

      // Assess: the container pauses no longer than its own backoff cap, not for a whole day.
      expect(next.kind).toBe('response');
    } finally {
      await rig.close();
    }
  });
});
