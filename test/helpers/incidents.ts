import type { EsetAnswer } from '../../functions/eset/answer';
import type { EsetCallKind, EsetRequest, SendOptions } from '../../functions/eset/client';
import type { TicketEvent } from '../../functions/events/ticket-event';
import { CLOSED, type IncidentRecord, mergeEvent, newRecord, OPEN } from '../../functions/incidents/record';
import {
  type ReconcileDeps,
  type ReconcilePolicy,
  Session,
  type SessionEnd,
  type SessionOptions,
} from '../../functions/incidents/session';
import { updateRecord, type Versioned } from '../../functions/incidents/store';
import { IncidentWorker, type WorkerTiming } from '../../functions/incidents/worker';
import type { Outcome } from '../../functions/observability/outcomes';
import type { RetryMessage } from '../../functions/retry-queue/message';
import type { DeadLetterReason, RetryQueue } from '../../functions/retry-queue/queue';
import { MemoryIncidentStore } from '../../infra/local/memory-store';
import { type FakeClock, fakeClock } from './clock';

export const T0 = Date.parse('2026-03-02T09:00:00.000Z');
export const TENANT = 'default';
export const INCIDENT = '3f9c2a7e-5b1d-4c8e-9a6f-2d7b1e4c8a90';
export const OTHER_INCIDENT = '0b6d1f3a-8c2e-4d7f-a1b9-5e3c7a2d9f41';
export { CLOSED, OPEN };

/** The deployed policy: backoff from 5 s, settle 190 s, first re-send after 5 s, a day's budget. */
export const POLICY: ReconcilePolicy = {
  baseSeconds: 5,
  maxDelaySeconds: 900,
  settleSeconds: 190,
  pendingResendSeconds: 5,
  maxAgeSeconds: 86_400,
};

/** The deployed timings (functions/bridge.ts, `workerTiming`, with its defaults). */
export const TIMING: WorkerTiming = {
  receive: { budgetMs: 8_000, leaseMs: 11_000 },
  retry: { callTimeoutMs: 55_000, sessionMs: 115_000, leaseMs: 155_250 },
  staleMessageMs: (900 + 5 * 900 + 300) * 1000,
  overdueMs: (900 + 60) * 1000,
};

/** Full jitter at its middle: the first backoff is 3 s, the second 5 s, the third 10 s. */
export const RANDOM = () => 0.5;

// ---------------------------------------------------------------------------------------------
// Ticket events

export function closeEvent(over: Partial<TicketEvent> = {}): TicketEvent {
  return {
    action: 'close',
    incidentUuid: INCIDENT,
    closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE',
    comment: 'Resolved in INC-1042: host reimaged',
    ticketId: 'INC-1042',
    ...over,
  };
}

export function reopenEvent(over: Partial<TicketEvent> = {}): TicketEvent {
  return {
    action: 'reopen',
    incidentUuid: INCIDENT,
    comment: 'Reopened: seen again',
    ticketId: 'INC-1042',
    ...over,
  };
}

export function commentEvent(text: string, over: Partial<TicketEvent> = {}): TicketEvent {
  return { action: 'comment', incidentUuid: INCIDENT, comment: text, ticketId: 'INC-1042', ...over };
}

// ---------------------------------------------------------------------------------------------
// ESET answers

type Response = Extract<EsetAnswer, { kind: 'response' }>;

export function status(code: number, extra: Partial<Response> = {}): EsetAnswer {
  return { kind: 'response', status: code, latencyMs: 40, requestId: `req-${code}`, ...extra };
}

/** 200 to `GET /v2/incidents/{uuid}`. */
export function incident(state: string, resolveReason?: string): EsetAnswer {
  return status(200, {
    json: { incident: { uuid: INCIDENT, status: state, ...(resolveReason ? { resolveReason } : {}) } },
  });
}

/** 200 to `GET /v2/incidents/{uuid}/comments`. */
export function commentList(
  comments: { uuid: string; text: string; isFinalComment?: boolean }[],
): EsetAnswer {
  return status(200, { json: { comments } });
}

/** 200 to a posted comment, with the comment's uuid. */
export function posted(uuid: string): EsetAnswer {
  return status(200, { json: { comment: { uuid } } });
}

export function accepted(responseId: string): EsetAnswer {
  return status(202, { responseId });
}

export function lost(reason = 'no answer within 55000 ms'): EsetAnswer {
  return { kind: 'lost', reason, latencyMs: 55_000 };
}

// ---------------------------------------------------------------------------------------------
// A scripted ESET

export interface EsetCall {
  tenant: string;
  call: EsetCallKind;
  method: string;
  path: string;
  body?: string;
  responseId?: string;
  /** The fake clock when the call was made. */
  at: number;
}

/** An answer, or a function that acts while the call is under way (moves the clock, writes the record). */
export type Reply =
  | EsetAnswer
  | ((request: EsetRequest, options: SendOptions) => EsetAnswer | Promise<EsetAnswer>);

/**
 * ESET as a script: each call takes the next queued answer and is recorded. A call nobody
 * scripted fails the test with what it was.
 */
export function scriptedEset(clock: FakeClock) {
  const replies: Reply[] = [];
  const calls: EsetCall[] = [];
  /** Slots reserved ahead (`reserve`): the tenant, and the number of calls made by then. */
  const reserved: { tenant: string; callsBefore: number; deadline: number }[] = [];
  const eset = (tenant: string) => ({
    reserve: (deadline: number) => {
      reserved.push({ tenant, callsBefore: calls.length, deadline });
    },
    send: async (request: EsetRequest, options: SendOptions): Promise<EsetAnswer> => {
      calls.push({
        tenant,
        call: request.call,
        method: request.method,
        path: request.path,
        ...(request.body !== undefined ? { body: request.body } : {}),
        ...(options.responseId ? { responseId: options.responseId } : {}),
        at: clock.now(),
      });
      const next = replies.shift();
      if (next === undefined)
        throw new Error(`ESET was not expected to be called: ${request.call} ${request.path}`);
      return typeof next === 'function' ? next(request, options) : next;
    },
  });
  return {
    eset,
    calls,
    reserved,
    /** Queues the answers to the next calls, in order. */
    answers(...next: Reply[]): void {
      replies.push(...next);
    },
    /** The kinds of the calls made so far (`close+id` for a re-send with a response-id). */
    kinds(): string[] {
      return calls.map((c) => (c.responseId ? `${c.call}+id` : c.call));
    },
    get unanswered(): number {
      return replies.length;
    },
  };
}
export type ScriptedEset = ReturnType<typeof scriptedEset>;

// ---------------------------------------------------------------------------------------------
// A recording retry queue

export function recordingQueue() {
  const enqueued: { message: RetryMessage; delaySeconds: number }[] = [];
  const deadLettered: { body: RetryMessage; why: DeadLetterReason }[] = [];
  const queue: RetryQueue = {
    enqueue: async (message, delaySeconds) => {
      enqueued.push({ message: structuredClone(message), delaySeconds });
    },
    deadLetter: async (body, why) => {
      deadLettered.push({ body: JSON.parse(body) as RetryMessage, why });
    },
  };
  return { queue, enqueued, deadLettered };
}

// ---------------------------------------------------------------------------------------------
// The rig: store, clock, ESET, queue and worker together

export function incidentRig(policy: Partial<ReconcilePolicy> = {}) {
  const clock = fakeClock(T0);
  const eset = scriptedEset(clock);
  const store = new MemoryIncidentStore();
  const { queue, enqueued, deadLettered } = recordingQueue();
  const outcomes: Omit<Outcome, 'at'>[] = [];
  let ids = 0;
  const deps: ReconcileDeps = {
    eset: eset.eset,
    store,
    clock,
    random: RANDOM,
    policy: { ...POLICY, ...policy },
  };
  const worker = new IncidentWorker({
    ...deps,
    queue,
    record: (o) => outcomes.push(o),
    timing: TIMING,
    newId: () => `id-${++ids}`,
  });

  const current = async (incidentUuid = INCIDENT): Promise<Versioned> => {
    const v = await store.get(TENANT, incidentUuid);
    if (!v) throw new Error('no record');
    return v;
  };

  let sessions = 0;
  let events = 0;
  return {
    clock,
    eset,
    store,
    queue,
    enqueued,
    deadLettered,
    outcomes,
    deps,
    worker,
    /** The record as stored. */
    async record(incidentUuid = INCIDENT): Promise<IncidentRecord> {
      return (await current(incidentUuid)).rec;
    },
    /**
     * Takes events in (as the receive Lambda does, without acting; keys `key-1`, `key-2`, ... in
     * the order taken), then applies `patch`.
     */
    async seed(taken: TicketEvent[], patch: (r: IncidentRecord) => void = () => {}): Promise<IncidentRecord> {
      const incidentUuid = taken[0]?.incidentUuid ?? INCIDENT;
      const saved = await updateRecord(store, TENANT, incidentUuid, (r) => {
        const rec = r ?? newRecord(TENANT, incidentUuid, clock.now());
        for (const event of taken) {
          events += 1;
          mergeEvent(rec, event, { key: `key-${events}`, now: clock.now(), correlationId: `corr-${events}` });
        }
        patch(rec);
        return rec;
      });
      return (saved as Versioned).rec;
    },
    /** Writes `patch` into the stored record, as another worker would. */
    async patch(patch: (r: IncidentRecord) => void, incidentUuid = INCIDENT): Promise<void> {
      await updateRecord(store, TENANT, incidentUuid, (r) => {
        if (!r) throw new Error('no record');
        patch(r);
        return r;
      });
    },
    /** A retry session holding the lease (as the retry Lambda runs one). */
    async session(opts: Partial<SessionOptions> = {}): Promise<Session> {
      const owner = opts.owner ?? `retry:session-${++sessions}`;
      const now = clock.now();
      const leased = await updateRecord(store, TENANT, INCIDENT, (r) => {
        if (!r) throw new Error('no record');
        r.lease = { owner, until: now + TIMING.retry.leaseMs };
        return r;
      });
      return new Session(deps, leased as Versioned, {
        owner,
        deadline: now + TIMING.retry.sessionMs,
        callTimeoutMs: TIMING.retry.callTimeoutMs,
        minCallMs: TIMING.retry.callTimeoutMs,
        checkBudget: true,
        ...opts,
      });
    },
    /** One retry session from start to end: its end, what it did, and the record as it left it. */
    async turn(opts: Partial<SessionOptions> = {}) {
      const session = await this.session(opts);
      const end: SessionEnd = await session.run();
      const saved = await session.finish();
      return { end, effects: session.effects, failures: session.failures, rec: saved.rec };
    },
    /** The last message put on the retry queue. */
    lastWake(): { message: RetryMessage; delaySeconds: number } {
      const last = enqueued.at(-1);
      if (!last) throw new Error('nothing was queued');
      return last;
    },
    /** Delivers a queued message when it is due (its send time plus its delay). */
    async deliver(wake: { message: RetryMessage; delaySeconds: number }, lateMs = 0): Promise<void> {
      clock.set(Date.parse(wake.message.sentAt) + wake.delaySeconds * 1000 + lateMs);
      await worker.onMessage(wake.message);
    },
  };
}
export type IncidentRig = ReturnType<typeof incidentRig>;

/** A retry message for the incident, as the worker would queue it. */
export function wakeMessage(over: Partial<RetryMessage> = {}): RetryMessage {
  return {
    v: 2,
    tenant: TENANT,
    incidentUuid: INCIDENT,
    wakeId: 'wake-1',
    sentAt: new Date(T0).toISOString(),
    delaySeconds: 0,
    correlationId: 'corr-1',
    ...over,
  };
}
