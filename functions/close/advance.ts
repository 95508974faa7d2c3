import type { EsetClient } from '../eset/client';
import { answerLabel, classifyClose, classifyRead, type Outcome } from '../outcomes/classify';
import type { Clock } from '../pacing/rate-limiter';
import { backoffSeconds, resendDelaySeconds, SQS_MAX_DELAY_SECONDS } from '../retry-queue/backoff';
import { atPhase, type RetryMessage } from '../retry-queue/message';
import type { CloseRequest } from '../webhook/close-request';

/** What to do with a piece of work after one step at ESET. */
export type Decision =
  | { kind: 'closed'; how: 'closed' | 'already-closed' | 'retrieved'; work: RetryMessage }
  | {
      kind: 'requeue';
      outcome: 'pending' | 'retry' | 'unknown';
      work: RetryMessage;
      delaySeconds: number;
      authFailure?: boolean;
    }
  | { kind: 'rejected'; status: number; reason: string; work: RetryMessage };

export interface AdvanceDeps {
  eset: Pick<EsetClient, 'close' | 'read'>;
  clock: Pick<Clock, 'now'>;
  random: () => number;
  policy: {
    baseSeconds: number;
    maxDelaySeconds: number;
    settleSeconds: number;
    pendingResendSeconds: number;
  };
}

/** The first state of a request the receive Lambda accepted. */
export function newWork(request: CloseRequest, correlationId: string, now: number): RetryMessage {
  const firstSeen = new Date(now).toISOString();
  return { v: 1, request, phase: 'close', attempt: 1, firstSeen, correlationId };
}

/**
 * Moves one piece of work one step forward at ESET: the shared core of both Lambdas.
 * It never closes an incident whose state it cannot see after an unknown outcome: it reads
 * first (at once after a lost cache or a 400, after `settleSeconds` after a timeout).
 */
export async function advance(deps: AdvanceDeps, work: RetryMessage, deadline: number): Promise<Decision> {
  const now = deps.clock.now();
  if (work.phase === 'verify') {
    const notBefore = work.notBefore ? Date.parse(work.notBefore) : 0;
    if (notBefore > now) {
      return {
        kind: 'requeue',
        outcome: 'unknown',
        work,
        delaySeconds: Math.min(SQS_MAX_DELAY_SECONDS, Math.ceil((notBefore - now) / 1000)),
      };
    }
    return readThenClose(deps, work, deadline, undefined);
  }
  const answer = await deps.eset.close(
    work.request,
    deadline,
    work.phase === 'resend' ? work.responseId : undefined,
  );
  const stamped = stamp(work, answerLabel(answer), answer.kind === 'response' ? answer.requestId : undefined);
  const outcome = classifyClose(answer, work.phase, deps.clock.now());
  return decide(deps, stamped, outcome, deadline, true);
}

async function decide(
  deps: AdvanceDeps,
  work: RetryMessage,
  outcome: Outcome,
  deadline: number,
  mayRead: boolean,
): Promise<Decision> {
  const now = deps.clock.now();
  const w = {
    ...work,
    lastReason: outcome.kind === 'closed' || outcome.kind === 'pending' ? undefined : outcome.reason,
  };
  switch (outcome.kind) {
    case 'closed':
      return { kind: 'closed', how: outcome.how, work: w };
    case 'rejected':
      return { kind: 'rejected', status: outcome.status, reason: outcome.reason, work: w };
    case 'pending': {
      const sameCache =
        work.phase === 'resend' && work.responseId === outcome.responseId && work.pendingSince;
      const pendingSince = sameCache ? (work.pendingSince as string) : new Date(now).toISOString();
      const resends = sameCache ? (work.resends ?? 0) + 1 : 0;
      return pendingOrVerify(
        deps,
        { ...w, phase: 'resend', responseId: outcome.responseId, pendingSince, resends },
        now,
      );
    }
    case 'retry': {
      const delaySeconds = backoffSeconds(w.attempt, deps.policy, deps.random, outcome.retryAfterMs);
      const auth = outcome.authFailure ? { authFailure: true } : {};
      if (work.phase === 'resend' && work.responseId && work.pendingSince) {
        // The re-send itself was throttled: keep re-sending while ESET's cache may still hold the answer.
        const next = { ...w, attempt: w.attempt + 1 };
        if (resendDelaySeconds(0, delaySeconds, Date.parse(work.pendingSince), now) !== undefined) {
          return { kind: 'requeue', outcome: 'retry', work: next, delaySeconds, ...auth };
        }
        return { kind: 'requeue', outcome: 'unknown', work: toVerify(next, now), delaySeconds: 0, ...auth };
      }
      return {
        kind: 'requeue',
        outcome: 'retry',
        work: { ...w, phase: 'close', attempt: w.attempt + 1 },
        delaySeconds,
        ...auth,
      };
    }
    case 'unknown': {
      if (outcome.settle) {
        const settleMs = deps.policy.settleSeconds * 1000;
        return {
          kind: 'requeue',
          outcome: 'unknown',
          work: toVerify({ ...w, attempt: w.attempt + 1 }, now + settleMs),
          delaySeconds: Math.min(SQS_MAX_DELAY_SECONDS, deps.policy.settleSeconds),
        };
      }
      if (!mayRead) {
        return {
          kind: 'requeue',
          outcome: 'unknown',
          work: toVerify({ ...w, attempt: w.attempt + 1 }, now),
          delaySeconds: backoffSeconds(w.attempt, deps.policy, deps.random),
        };
      }
      // A 400 on a first close means "refused" unless the incident turns out to be closed already.
      const refusal = work.phase === 'close' ? { status: 400, reason: outcome.reason } : undefined;
      return readThenClose(deps, w, deadline, refusal);
    }
  }
}

/** Reads the incident; closed -> done; open -> (refused) or close again, once. */
async function readThenClose(
  deps: AdvanceDeps,
  work: RetryMessage,
  deadline: number,
  refusal: { status: number; reason: string } | undefined,
): Promise<Decision> {
  const answer = await deps.eset.read(work.request.incidentUuid, deadline);
  const now = deps.clock.now();
  const read = classifyRead(answer, now);
  const w = stamp(work, answerLabel(answer), answer.kind === 'response' ? answer.requestId : undefined);
  switch (read.kind) {
    case 'state': {
      if (read.closed) return { kind: 'closed', how: 'already-closed', work: w };
      if (refusal) return { kind: 'rejected', status: refusal.status, reason: refusal.reason, work: w };
      const again = atPhase({ ...w, attempt: w.attempt + 1 }, 'close');
      const closeAnswer = await deps.eset.close(again.request, deadline);
      const stamped = stamp(
        again,
        answerLabel(closeAnswer),
        closeAnswer.kind === 'response' ? closeAnswer.requestId : undefined,
      );
      return decide(deps, stamped, classifyClose(closeAnswer, 'close', deps.clock.now()), deadline, false);
    }
    case 'rejected':
      return {
        kind: 'rejected',
        status: read.status,
        reason: read.reason,
        work: { ...w, lastReason: read.reason },
      };
    case 'retry': {
      const delaySeconds = backoffSeconds(w.attempt, deps.policy, deps.random, read.retryAfterMs);
      return {
        kind: 'requeue',
        outcome: 'unknown',
        work: toVerify({ ...w, attempt: w.attempt + 1, lastReason: read.reason }, now),
        delaySeconds,
        ...(read.authFailure ? { authFailure: true } : {}),
      };
    }
  }
}

function pendingOrVerify(deps: AdvanceDeps, work: RetryMessage, now: number): Decision {
  const delay = resendDelaySeconds(
    work.resends ?? 0,
    deps.policy.pendingResendSeconds,
    Date.parse(work.pendingSince as string),
    now,
  );
  const next = { ...work, attempt: work.attempt + 1 };
  if (delay === undefined)
    return { kind: 'requeue', outcome: 'unknown', work: toVerify(next, now), delaySeconds: 0 };
  return { kind: 'requeue', outcome: 'pending', work: next, delaySeconds: delay };
}

function toVerify(work: RetryMessage, notBeforeMs: number): RetryMessage {
  return atPhase(work, 'verify', { notBefore: new Date(notBeforeMs).toISOString() });
}

function stamp(work: RetryMessage, lastStatus: string, requestId: string | undefined): RetryMessage {
  const w: RetryMessage = { ...work, lastStatus };
  if (requestId) w.lastRequestId = requestId;
  return w;
}
