/**
 * `npm run send -- --incident <uuid> --reason false-positive --comment "..." [--ticket SEC-1]
 * [--url http://127.0.0.1:3000]`: posts one close request to a running bridge, signed the
 * Standard Webhooks way with WEBHOOK_SECRET (default: the documented local secret), and prints
 * the answer. Exits 0 on a 2xx answer, 1 otherwise, 2 on bad arguments.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { sign } from '../../functions/auth/standard-webhooks';

/** runtime.ts's LOCAL_WEBHOOK_SECRET (a test keeps them equal); not imported so `send` starts fast. */
export const LOCAL_WEBHOOK_SECRET = 'whsec_bG9jYWwtZGV2LXNlY3JldC1jaGFuZ2UtbWU=';

const USAGE = `usage: npm run send -- --incident <uuid> [--reason true-positive|false-positive|suspicious|unspecified]
                      [--comment "text"] [--ticket <id>] [--url http://127.0.0.1:3000]
  WEBHOOK_SECRET signs the request (default: the local runtime's documented secret).`;

/** The signed request `send` would post; exported for tests and the demo. */
export function signedRequest(
  body: Record<string, unknown>,
  secret: string,
  now = Date.now(),
): { body: string; headers: Record<string, string> } {
  const text = JSON.stringify(body);
  const id = `msg_${randomUUID()}`;
  const timestamp = Math.floor(now / 1000);
  return {
    body: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(secret, id, timestamp, text),
    },
  };
}

/** Where a local bridge listens unless told: PORT as `npm start` reads it. */
export function defaultBridgeUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${env.PORT && env.PORT !== '0' ? env.PORT : '3000'}/`;
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        incident: { type: 'string' },
        reason: { type: 'string', default: 'true-positive' },
        comment: { type: 'string', default: 'Closed from npm run send' },
        ticket: { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (typeof values.incident !== 'string' || values.incident === '') {
    console.error(`--incident is required\n${USAGE}`);
    return 2;
  }
  const url = typeof values.url === 'string' ? values.url : defaultBridgeUrl();
  const secret = process.env.WEBHOOK_SECRET?.split(/[\s,]+/)[0] || LOCAL_WEBHOOK_SECRET;
  const request = signedRequest(
    {
      incidentUuid: values.incident,
      closureReason: values.reason,
      comment: values.comment,
      ...(typeof values.ticket === 'string' ? { ticketId: values.ticket } : {}),
    },
    secret,
  );
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    console.error(
      `cannot reach ${url}${cause || `: ${String(err)}`}\nIs the bridge running (npm start)? Use --url if it listens elsewhere.`,
    );
    return 1;
  }
  const text = await res.text();
  console.log(`${res.status} ${text}`);
  return res.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
