/**
 * Child process of the warm benchmark (bundled by scripts/bench/build.ts): loads the bundled
 * receive Lambda like a container would, then alternates signed close invocations with a bare
 * fetch of the same ESET close request, and reports both timings over IPC.
 *
 * The bridge allows itself ESET_MAX_RPS calls per second; the rounds stay under that (9 calls,
 * then a pause past the limiter's window) so the figure is the bridge's overhead, not its pacing.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { EsetRequests } from '../../functions/eset/client';
import { functionUrlEvent, signedHeaders } from '../../infra/local/events';
import { LOOPBACK_TOKEN } from './loopback-eset';

export interface WarmSamples {
  handlerMs: number[];
  fetchMs: number[];
  statuses: Record<string, number>;
}

const env = process.env;
const entry = env.BENCH_ENTRY as string;
const rounds = Number(env.BENCH_ROUNDS ?? 10);
const warmupRounds = Number(env.BENCH_WARMUP_ROUNDS ?? 3);
const perRound = Number(env.BENCH_PER_ROUND ?? 9);
const apiUrl = env.ESET_API_URL as string;
const secret = env.WEBHOOK_SECRET as string;

const request = {
  incidentUuid: '123e4567-e89b-12d3-a456-426614174000',
  closureReason: 'INCIDENT_RESOLVE_REASON_TRUE_POSITIVE' as const,
  comment: 'Malware removed, host reimaged. Ticket SEC-4711.',
  ticketId: 'SEC-4711',
};
const webhookBody = JSON.stringify({
  incidentUuid: request.incidentUuid,
  closureReason: 'TRUE_POSITIVE',
  comment: request.comment,
  ticketId: request.ticketId,
});
const closeUrl = `${apiUrl}/v2/incidents/${request.incidentUuid}:close`;
const closeBody = EsetRequests.close(request.incidentUuid, request.closureReason, request.comment).body;
const closeHeaders = {
  authorization: `Bearer ${LOOPBACK_TOKEN}`,
  accept: 'application/json',
  '3rd-integration': env.ESET_INTEGRATION_NAME ?? 'eset-close-bridge',
  'content-type': 'application/json',
};

type Handler = (event: APIGatewayProxyEventV2) => Promise<{ statusCode: number }>;
const { handler } = (await import(pathToFileURL(entry).href)) as { handler: Handler };

/** What a sender's webhook looks like when the Lambda gets it (signed outside the timing). */
const nextEvent = () =>
  functionUrlEvent({
    body: webhookBody,
    headers: signedHeaders(webhookBody, { secret, id: `msg_${randomUUID()}` }),
  });

async function bareFetch(): Promise<void> {
  const res = await fetch(closeUrl, { method: 'POST', headers: closeHeaders, body: closeBody });
  await res.text();
}

const samples: WarmSamples = { handlerMs: [], fetchMs: [], statuses: {} };
for (let round = 0; round < warmupRounds + rounds; round++) {
  const roundStart = performance.now();
  for (let i = 0; i < perRound; i++) {
    const event = nextEvent();
    const timeHandler = async () => {
      const t0 = performance.now();
      const answer = await handler(event);
      const ms = performance.now() - t0;
      samples.statuses[answer.statusCode] = (samples.statuses[answer.statusCode] ?? 0) + 1;
      return ms;
    };
    const timeFetch = async () => {
      const t0 = performance.now();
      await bareFetch();
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
    if (round >= warmupRounds) {
      samples.handlerMs.push(hMs);
      samples.fetchMs.push(fMs);
    }
  }
  // Let the limiter's window (1050 ms) pass so no invocation waits for a slot.
  const wait = 1150 - (performance.now() - roundStart);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

process.send?.(samples, () => process.exit(0));
