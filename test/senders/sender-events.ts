import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { hubSignature, zendeskSignature } from '../../functions/auth/schemes';
import { functionUrlEvent, signedHeaders, TEST_WEBHOOK_SECRET } from '../../infra/local/events';

/** A fixture payload from test/fixtures/senders, as the exact text a sender would post. */
export const fixtureText = (name: string): string =>
  readFileSync(new URL(`../fixtures/senders/${name}.json`, import.meta.url), 'utf8');

/** Per-route secrets as the webhook secret's JSON form holds them (TheHive mid-rotation). */
export const ROUTE_SECRETS = {
  '/': TEST_WEBHOOK_SECRET,
  '/jira': 'jira-admin-webhook-secret',
  '/zendesk': 'zendesk-signing-secret-3f9a',
  '/servicenow': 'servicenow-outbound-token',
  '/freshservice': 'freshservice:basic-auth-password',
  '/freshdesk': 'freshdesk:basic-auth-password',
  '/thehive': ['thehive-token-new', 'thehive-token-old'],
} as const;

export const SENDERS_CONFIG = {
  routes: {
    '/jira': { incident: [{ field: 'issue.fields.customfield_10050' }] },
    '/servicenow': {},
    '/zendesk': {},
    '/freshservice': {},
    '/freshdesk': {},
    '/thehive': {},
  },
};

/** Env for startHarness: all routes on, secrets as JSON. */
export const SENDERS_ENV = {
  SENDERS_CONFIG: JSON.stringify(SENDERS_CONFIG),
  WEBHOOK_SECRET: JSON.stringify(ROUTE_SECRETS),
};

type Route = keyof typeof ROUTE_SECRETS;

/**
 * A Function URL event for `route` carrying `body` with the route's own authentication, as the
 * sender would add it. `secret` overrides the route's (first) secret; `headers` adds or replaces.
 */
export function senderEvent(
  route: Route,
  body: string,
  opts: { secret?: string; headers?: Record<string, string>; now?: Date } = {},
): APIGatewayProxyEventV2 {
  const configured = ROUTE_SECRETS[route];
  const secret = opts.secret ?? (typeof configured === 'string' ? configured : configured[0]);
  const now = opts.now ?? new Date();
  const base = { 'content-type': 'application/json' };
  let auth: Record<string, string>;
  switch (route) {
    case '/':
      auth = signedHeaders(body, { secret, timestamp: Math.floor(now.getTime() / 1000) });
      break;
    case '/jira':
      auth = { 'x-hub-signature': hubSignature(secret, body), 'x-atlassian-webhook-identifier': '3f9a-1' };
      break;
    case '/zendesk': {
      const timestamp = `${now.toISOString().slice(0, 19)}Z`;
      auth = {
        'x-zendesk-webhook-signature': zendeskSignature(secret, timestamp, body),
        'x-zendesk-webhook-signature-timestamp': timestamp,
        'x-zendesk-webhook-id': '01GK8E6BKWMJZD2T8Y5AXJQMG5',
        'x-zendesk-webhook-invocation-id': '8350205582',
      };
      break;
    }
    case '/freshservice':
    case '/freshdesk':
      auth = { authorization: `Basic ${Buffer.from(secret).toString('base64')}` };
      break;
    default:
      auth = { authorization: `Bearer ${secret}` };
  }
  return functionUrlEvent({ body, path: route, headers: { ...base, ...auth, ...opts.headers } });
}
