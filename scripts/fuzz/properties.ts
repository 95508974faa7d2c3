/**
 * The properties both boundaries must keep, as plain checks that throw `PropertyViolation` with
 * the input that broke them. `npm run fuzz` and `test/fuzz/*.test.ts` run the same checks.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { parseRetryMessage } from '../../functions/retry-queue/message';
import { sqsEvent } from '../../infra/local/events';
import { judgeWebhook, type Verdict } from './oracle';
import type { RetryBatchCase } from './retry-cases';
import { type FuzzRig, type QueueCall, SQS_MAX_MESSAGE_BYTES, sqsIllegalCharacter } from './rig';
import { materialize, type WebhookCase } from './webhook-cases';

export class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}

function violated(message: string, detail: Record<string, unknown> = {}): never {
  const shown = JSON.stringify(detail, (_k, v) =>
    typeof v === 'string' && v.length > 400 ? `${v.slice(0, 400)}…(${v.length} chars)` : v,
  );
  throw new PropertyViolation(`${message} ${shown}`);
}

/** Counters for the summary: what was generated and how the bridge answered. */
export class FuzzStats {
  cases = 0;
  readonly byFamily: Record<string, number> = {};
  readonly byOutcome: Record<string, number> = {};
  readonly notes: Record<string, number> = {};

  count(family: string, outcome: string): void {
    this.cases += 1;
    this.byFamily[family] = (this.byFamily[family] ?? 0) + 1;
    this.byOutcome[outcome] = (this.byOutcome[outcome] ?? 0) + 1;
  }

  note(what: string): void {
    this.notes[what] = (this.notes[what] ?? 0) + 1;
  }
}

/** Collects unhandled rejections while fuzzing; any is a failure. */
export function trackUnhandledRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
  };
  process.on('unhandledRejection', listener);
  return { seen, stop: () => process.off('unhandledRejection', listener) };
}

const REFUSED = new Set([400, 401, 405, 413, 415]);
const ACTED = new Set([200, 202, 404, 422]);
const STACK = /\n\s+at\s|\bat\s+\S+\s+\(.*:\d+:\d+\)|node:internal|\/functions\/|\.ts:\d+/;

function checkAnswerShape(
  rig: FuzzRig,
  answer: { statusCode: number; headers?: unknown; body: string },
  detail: Record<string, unknown>,
): void {
  if (!Number.isInteger(answer.statusCode)) violated('status is not an integer', detail);
  if (answer.statusCode >= 500) violated(`answered ${answer.statusCode}`, { ...detail, answer: answer.body });
  const headers = (answer.headers ?? {}) as Record<string, unknown>;
  if (headers['content-type'] !== 'application/json') violated('answer is not labelled JSON', detail);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    violated('answer body is not JSON', { ...detail, answer: answer.body });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    violated('answer is not a JSON object', { ...detail, answer: answer.body });
  if (STACK.test(answer.body))
    violated('answer shows a stack trace or source path', { ...detail, answer: answer.body });
  for (const secret of rig.secrets) {
    if (answer.body.includes(secret)) violated('answer contains a secret', detail);
  }
  if (/access_token|refresh_token|Bearer\s/i.test(answer.body)) violated('answer mentions a token', detail);
}

export interface CheckOptions {
  stats?: FuzzStats;
}

/**
 * What SQS would be given must be storable: characters SQS accepts, within the size limit.
 * (Fuzzing found U+FFFE/U+FFFF in bodies and control characters in dead-letter reasons; see
 * test/fuzz/found-bugs.test.ts.)
 */
function checkSqsCall(call: QueueCall, detail: Record<string, unknown>): void {
  const bad = sqsIllegalCharacter(call.body);
  if (bad)
    violated(`the bridge gave SQS a body with ${bad}, which SQS refuses or replaces`, {
      ...detail,
      body: call.body,
    });
  let size = Buffer.byteLength(call.body);
  for (const [k, v] of Object.entries(call.attributes)) {
    size += Buffer.byteLength(k) + Buffer.byteLength(v) + 'String'.length;
    const badAttr = sqsIllegalCharacter(v);
    if (badAttr) violated(`SQS attribute ${k} has ${badAttr}`, { ...detail, value: v });
  }
  if (size > SQS_MAX_MESSAGE_BYTES) violated(`an SQS message of ${size} bytes exceeds 256 KiB`, detail);
  if (call.op === 'enqueue' && (call.delaySeconds ?? 0) < 0) violated('negative delay', detail);
}

/**
 * The webhook boundary: never a 5xx, always a JSON answer without stack or secret; invalid input
 * gets 4xx and causes no ESET request (token requests included) and no SQS call; valid input is
 * acted on, and what it queues is a retry message the retry Lambda accepts.
 */
export async function checkWebhookCase(rig: FuzzRig, c: WebhookCase, opts: CheckOptions = {}): Promise<void> {
  const { stats } = opts;
  const nowSeconds = Math.floor(rig.clock.now() / 1000);
  const event = materialize(c, rig.secrets[0] as string, nowSeconds);
  const verdict: Verdict = judgeWebhook(event, {
    secrets: [rig.secrets[0] as string],
    nowSeconds,
    toleranceSeconds: rig.config.webhookToleranceSeconds,
    maxBodyBytes: rig.config.maxBodyBytes,
  });
  const esetBefore = rig.esetRequests.length;
  const queueBefore = rig.queue.calls.length;
  const detail = { case: c, verdict };

  let answer: Awaited<ReturnType<FuzzRig['receive']>>;
  try {
    answer = await rig.receive(event);
  } catch (err) {
    violated(`the receive handler threw ${String(err)}`, detail);
  }
  const eset = rig.esetRequests.slice(esetBefore);
  const queued = rig.queue.calls.slice(queueBefore);
  const full = { ...detail, status: answer.statusCode, answer: answer.body, eset, queued: queued.length };
  checkAnswerShape(rig, answer, full);
  for (const call of queued) checkSqsCall(call, full);

  const acted = ACTED.has(answer.statusCode);
  if (verdict.kind === 'invalid') {
    if (!REFUSED.has(answer.statusCode)) violated('invalid input was not refused with 4xx', full);
    if (eset.length > 0) violated('invalid input reached ESET', full);
    if (queued.length > 0) violated('invalid input reached SQS', full);
  } else if (verdict.kind === 'valid') {
    if (!acted) violated('a valid signed close was refused', full);
  } else if (acted) {
    stats?.note(`lenient input acted on (${verdict.why})`);
  } else if (eset.length > 0 || queued.length > 0) {
    violated('refused input still reached ESET or SQS', full);
  }
  if (acted) {
    // A repeat of a close the record already holds is answered from the record, without ESET; a
    // close that joins the incident's scheduled work (a backoff, a settle, a pending 202) waits for
    // that wake-up. Either way a 202 stands for stored work: a new message, or the scheduled one.
    const repeat = answer.body.includes('"duplicate":true');
    const rec = (await rig.store.get('default', incidentOfAnswer(answer.body) ?? ''))?.rec;
    const scheduled = rec?.wake !== undefined;
    const waits = answer.statusCode === 202 && (queued.length === 1 || scheduled);
    if (!repeat && !waits && !eset.some((e) => e.kind === 'api'))
      violated('a close was answered without asking ESET', full);
    const expectQueued = answer.statusCode === 202 ? 1 : 0;
    const allowed = repeat || scheduled ? [0, expectQueued] : [expectQueued];
    if (!allowed.includes(queued.length)) violated(`expected ${expectQueued} SQS call(s)`, full);
    if (answer.statusCode === 202 && queued.length === 0 && !scheduled)
      violated('answered 202 with no wake-up scheduled for its work', full);
    for (const call of queued) {
      const parsed = parseRetryMessage(call.body);
      if (!parsed.ok) violated(`queued a body the retry Lambda would dead-letter: ${parsed.problem}`, full);
    }
  }
  stats?.count(c.family, `${verdict.kind}->${answer.statusCode}`);
}

/** Replaces what SQS does not store (it never delivers such characters). */
export function asSqsDelivers(body: string): string {
  let out = '';
  for (const ch of body) out += sqsIllegalCharacter(ch) ? '\uFFFD' : ch;
  return out.length > 0 ? out : ' ';
}

/**
 * The retry-message boundary: the handler never throws; a record that is not a retry message
 * is dead-lettered with its body byte-identical, never reaches ESET, and is left for redelivery
 * (never deleted silently) when the dead-letter queue refuses it; valid records make at most one
 * SQS call each, and every body the handler writes is a retry message it would itself accept.
 */
export async function checkRetryBatch(
  rig: FuzzRig,
  batch: RetryBatchCase,
  opts: CheckOptions = {},
): Promise<void> {
  const { stats } = opts;
  const now = rig.clock.now();
  const bodies = batch.records.map((r) => asSqsDelivers(r.build(now)));
  const event = sqsEvent(bodies);
  const ids = event.Records.map((r) => r.messageId);
  for (const r of batch.records) if (r.uuid && r.script) rig.sandbox.script(r.uuid, r.script);
  const esetBefore = rig.esetRequests.length;
  const queueBefore = rig.queue.calls.length;
  rig.queue.failDeadLetter = batch.failDeadLetter;
  rig.queue.failEnqueue = batch.failEnqueue;
  const detail = {
    records: batch.records.map((r, i) => ({
      family: r.family,
      kind: r.kind,
      body: bodies[i],
      eset: r.script,
    })),
    failDeadLetter: batch.failDeadLetter,
    failEnqueue: batch.failEnqueue,
  };

  let result: SQSBatchResponse;
  try {
    result = await rig.retry(event);
  } catch (err) {
    violated(`the retry handler threw ${String(err)}`, detail);
  } finally {
    rig.queue.failDeadLetter = false;
    rig.queue.failEnqueue = false;
  }
  if (!result || !Array.isArray(result.batchItemFailures)) violated('no batchItemFailures', detail);
  const failures = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
  for (const f of failures) if (!ids.includes(f)) violated('an unknown itemIdentifier', { ...detail, f });

  const eset = rig.esetRequests.slice(esetBefore);
  const calls = rig.queue.calls.slice(queueBefore);
  const full = {
    ...detail,
    eset,
    calls: calls.map((c) => ({ op: c.op, failed: c.failed, reason: c.attributes.reason })),
  };
  for (const call of calls) checkSqsCall(call, full);

  const consumed = new Set<number>();
  const actedOn = new Set<string>();
  batch.records.forEach((record, i) => {
    const body = bodies[i] as string;
    const id = ids[i] as string;
    const at = calls.findIndex(
      (c, j) =>
        !consumed.has(j) &&
        c.op === 'deadLetter' &&
        c.body === body &&
        (c.attributes.reason ?? '').startsWith('invalid retry message'),
    );
    if (at >= 0) {
      consumed.add(at);
      if (record.kind === 'valid')
        violated('a valid retry message was dead-lettered as invalid', { ...full, body });
      const failedToPark = calls[at]?.failed === true;
      if (failedToPark && !failures.has(id))
        violated('an invalid record was deleted although the dead-letter queue refused it', {
          ...full,
          body,
        });
      if (!failedToPark && failures.has(id))
        violated('a dead-lettered record is also left for redelivery', full);
      stats?.count(record.family, failedToPark ? 'invalid->redelivered' : 'invalid->dead-lettered');
      return;
    }
    if (record.kind === 'invalid')
      violated('an invalid record was not dead-lettered untouched', { ...full, body });
    const uuid = incidentOf(body);
    if (!uuid) violated('a record without an incident was acted on', { ...full, body });
    actedOn.add(uuid);
    // A record wakes its incident's whole outstanding work: at most one next wake-up, and one dead
    // letter (with its reason) for each piece of work ESET refused for good.
    const own = calls
      .map((c, j) => ({ c, j }))
      .filter(({ c, j }) => !consumed.has(j) && incidentOf(c.body) === uuid);
    const wakes = own.filter(({ c }) => c.op === 'enqueue');
    if (wakes.length > 1) violated('a record scheduled more than one wake-up', { ...full, uuid });
    for (const { c, j } of own) {
      consumed.add(j);
      const parsed = parseRetryMessage(c.body);
      if (!parsed.ok)
        violated(`wrote a body it would itself dead-letter: ${parsed.problem}`, { ...full, uuid });
      if (c.op === 'deadLetter' && !(c.attributes.reason ?? ''))
        violated('a dead letter without a reason', full);
    }
    const refused = own.some(({ c }) => c.failed);
    if (refused && !failures.has(id))
      violated('a record was deleted although SQS refused its next state', full);
    if (!refused && failures.has(id)) violated('a handled record is also left for redelivery', full);
    const outcome = own.length === 0 ? 'closed' : own.map(({ c }) => c.op).join('+');
    stats?.count(record.family, refused ? 'valid->redelivered' : `valid->${outcome}`);
  });
  if (consumed.size !== calls.length) violated('SQS calls that belong to no record', full);

  if (actedOn.size === 0 && eset.length > 0) violated('a batch without a valid record reached ESET', full);
  for (const e of eset) {
    if (e.kind === 'token') continue;
    if (![...actedOn].some((u) => e.path.includes(u)))
      violated('an ESET call for an incident of no valid record', { ...full, path: e.path });
  }
}

function incidentOf(body: string): string | undefined {
  try {
    const v = JSON.parse(body) as { incidentUuid?: unknown; request?: { incidentUuid?: unknown } };
    const id = v?.incidentUuid ?? v?.request?.incidentUuid;
    // The bridge writes incident ids in lower case, whatever case the message carried.
    return typeof id === 'string' ? id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

function incidentOfAnswer(body: string): string | undefined {
  const id = (JSON.parse(body) as { incidentUuid?: unknown }).incidentUuid;
  return typeof id === 'string' ? id : undefined;
}
