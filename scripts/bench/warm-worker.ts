/**
 * Child process of the warm benchmark (bundled by scripts/bench/build.ts): loads a deployed receive
 * Lambda like a container would (`_HANDLER` in `LAMBDA_TASK_ROOT`), then alternates signed close
 * invocations with a bare fetch of the same ESET close request, and reports both timings over IPC.
 * Every invocation closes an incident of its own, as a real close does: a repeated incident would
 * be answered from the incident record (or the idempotency record of older releases) without ESET.
 *
 * The DynamoDB round trips of each invocation are counted and timed through Node's HTTP client
 * diagnostics channels (the SDK's requests carrying a DynamoDB `X-Amz-Target`), from the request's
 * start to the end of its answer.
 *
 * The bridge paces its ESET calls (functions/pacing/shared-budget.ts: call starts 110 ms apart at
 * ESET's 10 per second); the invocations start further apart than that, so the figure is the
 * bridge's overhead, not its pacing.
 */
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { EsetRequests } from '../../functions/eset/client';
import { functionUrlEvent, signedHeaders } from '../../infra/local/events';
import { LOOPBACK_TOKEN } from './loopback-eset';

export interface WarmSamples {
  handlerMs: number[];
  fetchMs: number[];
  /** Per measured invocation: time in DynamoDB round trips, and their number. */
  dynamoMs: number[];
  dynamoTrips: number[];
  /** DynamoDB operations of the measured invocations, by name (PutItem, GetItem, UpdateItem...). */
  dynamoOps: Record<string, number>;
  /** The round-trip times of each operation, ms. */
  dynamoOpMs: Record<string, number[]>;
  statuses: Record<string, number>;
  /** All invocations and bare fetches, warm-up included (to tell the stand-in's counts apart). */
  invocations: number;
  fetches: number;
}

const env = process.env;
const rounds = Number(env.BENCH_ROUNDS ?? 10);
const warmupRounds = Number(env.BENCH_WARMUP_ROUNDS ?? 3);
const perRound = Number(env.BENCH_PER_ROUND ?? 9);
/** Between two invocations' starts: past the budget's spacing (110 ms at 10 per second), with a margin. */
const spacingMs = Math.ceil(1050 / Number(env.ESET_MAX_RPS ?? 10)) + 15;
const apiUrl = env.ESET_API_URL as string;
const secret = env.WEBHOOK_SECRET as string;

const comment = 'Malware removed, host reimaged. Ticket SEC-4711.';
const closeHeaders = {
  authorization: `Bearer ${LOOPBACK_TOKEN}`,
  accept: 'application/json',
  '3rd-integration': env.ESET_INTEGRATION_NAME ?? 'eset-close-bridge',
  'content-type': 'application/json',
};

// The DynamoDB round trips under way and done, by the request object.
const started = new Map<ClientRequest, { at: number; op: string }>();
let trips: { ms: number; op: string }[] = [];
subscribe('http.client.request.start', (m) => {
  const { request } = m as { request: ClientRequest };
  // DynamoDB's JSON protocol names the operation: `X-Amz-Target: DynamoDB_20120810.PutItem`.
  const target = String(request.getHeader('x-amz-target') ?? '');
  if (!target.startsWith('DynamoDB_')) return;
  started.set(request, { at: performance.now(), op: target.split('.').at(-1) ?? target });
});
subscribe('http.client.response.finish', (m) => {
  const { request } = m as { request: ClientRequest };
  const s = started.get(request);
  if (!s) return;
  started.delete(request);
  trips.push({ ms: performance.now() - s.at, op: s.op });
});

type Handler = (event: APIGatewayProxyEventV2) => Promise<{ statusCode: number }>;
const spec = env._HANDLER as string;
const dot = spec.lastIndexOf('.');
const mod = (await import(
  pathToFileURL(join(env.LAMBDA_TASK_ROOT as string, `${spec.slice(0, dot)}.mjs`)).href
)) as Record<string, Handler>;
const handler = mod[spec.slice(dot + 1)] as Handler;

/** A sender's webhook closing a new incident, as the Lambda gets it (signed outside the timing). */
function nextEvent(): APIGatewayProxyEventV2 {
  const body = JSON.stringify({
    incidentUuid: randomUUID(),
    closureReason: 'TRUE_POSITIVE',
    comment,
    ticketId: 'SEC-4711',
  });
  return functionUrlEvent({ body, headers: signedHeaders(body, { secret, id: `msg_${randomUUID()}` }) });
}

async function bareFetch(): Promise<void> {
  const incidentUuid = randomUUID();
  const res = await fetch(`${apiUrl}/v2/incidents/${incidentUuid}:close`, {
    method: 'POST',
    headers: closeHeaders,
    body: EsetRequests.close(incidentUuid, 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE', comment).body,
  });
  await res.text();
}

const samples: WarmSamples = {
  handlerMs: [],
  fetchMs: [],
  dynamoMs: [],
  dynamoTrips: [],
  dynamoOps: {},
  dynamoOpMs: {},
  statuses: {},
  invocations: 0,
  fetches: 0,
};
let lastStart = 0;
for (let round = 0; round < warmupRounds + rounds; round++) {
  const measured = round >= warmupRounds;
  for (let i = 0; i < perRound; i++) {
    const wait = lastStart + spacingMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastStart = performance.now();
    const event = nextEvent();
    const timeHandler = async () => {
      trips = [];
      const t0 = performance.now();
      const answer = await handler(event);
      const ms = performance.now() - t0;
      samples.invocations += 1;
      samples.statuses[answer.statusCode] = (samples.statuses[answer.statusCode] ?? 0) + 1;
      if (measured) {
        samples.dynamoMs.push(trips.reduce((a, t) => a + t.ms, 0));
        samples.dynamoTrips.push(trips.length);
        for (const t of trips) {
          samples.dynamoOps[t.op] = (samples.dynamoOps[t.op] ?? 0) + 1;
          samples.dynamoOpMs[t.op] = [...(samples.dynamoOpMs[t.op] ?? []), t.ms];
        }
      }
      return ms;
    };
    const timeFetch = async () => {
      const t0 = performance.now();
      await bareFetch();
      samples.fetches += 1;
      return performance.now() - t0;
    };
    // Alternate which goes first, so neither always runs on a just-used connection.
    let hMs: number;
    let fMs: number;
    if (i % 2 === 0) {
      hMs = await timeHandler();
      fMs = await timeFetch();
    } else {
      fMs = await timeFetch();
      hMs = await timeHandler();
    }
    if (measured) {
      samples.handlerMs.push(hMs);
      samples.fetchMs.push(fMs);
    }
  }
}

process.send?.(samples, () => process.exit(0));
