import { describe, expect, it } from 'vitest';
import { type AuthSpec, authenticate, hubSignature, zendeskSignature } from '../../functions/auth/schemes';
import { sign } from '../../functions/auth/standard-webhooks';
import { SignatureError } from '../../functions/errors/errors';

const NOW = 1_713_374_290; // 2024-04-17T17:18:10Z
const TOLERANCE = 300;

const run = (spec: AuthSpec, secrets: string[], headers: Record<string, string>, body: string, now = NOW) =>
  authenticate(spec, secrets, { headers, body, nowSeconds: now, toleranceSeconds: TOLERANCE });

describe('Jira Cloud X-Hub-Signature (sha256=<hex> of the raw body)', () => {
  const spec: AuthSpec = { scheme: 'hub-signature' };
  const secret = 'It$-a-Jira-s3cret';
  const body = '{"webhookEvent":"jira:issue_updated","issue":{"key":"SEC-4711"}}';
  // Computed independently: printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'It$-a-Jira-s3cret'
  const KNOWN = 'sha256=6df53535e806a5e26583a36049bc7fe543bc76b36713368d53c55c8bc6465b79';

  it('matches a known answer computed with openssl', () => {
    expect(hubSignature(secret, body)).toBe(KNOWN);
  });

  it('accepts a valid signature', () => {
    expect(() => run(spec, [secret], { 'x-hub-signature': KNOWN }, body)).not.toThrow();
  });

  it('accepts upper-case hex', () => {
    expect(() =>
      run(spec, [secret], { 'x-hub-signature': `sha256=${KNOWN.slice(7).toUpperCase()}` }, body),
    ).not.toThrow();
  });

  it('accepts the previous secret during a rotation, and the new one', () => {
    expect(() => run(spec, ['new-secret', secret], { 'x-hub-signature': KNOWN }, body)).not.toThrow();
    const signedNew = hubSignature('new-secret', body);
    expect(() => run(spec, ['new-secret', secret], { 'x-hub-signature': signedNew }, body)).not.toThrow();
  });

  it.each([
    ['a wrong secret', ['another-secret'], { 'x-hub-signature': KNOWN }, body, /does not match/],
    [
      'a tampered body',
      [secret],
      { 'x-hub-signature': KNOWN },
      body.replace('4711', '4712'),
      /does not match/,
    ],
    ['a missing header', [secret], {}, body, /Missing signature header: X-Hub-Signature/],
    ['a sha1 signature', [secret], { 'x-hub-signature': `sha1=${'a'.repeat(40)}` }, body, /sha256=/],
    ['a truncated signature', [secret], { 'x-hub-signature': KNOWN.slice(0, 40) }, body, /sha256=/],
  ])('rejects %s', (_name, secrets, headers, b, message) => {
    expect(() => run(spec, secrets, headers, b)).toThrow(message);
  });
});

describe('Zendesk X-Zendesk-Webhook-Signature (base64 HMAC of timestamp + body, secret as is)', () => {
  const spec: AuthSpec = { scheme: 'zendesk' };
  // Zendesk's documented secret for test deliveries; used as is, never base64-decoded.
  const secret = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
  const ts = '2024-04-17T17:18:10Z';
  const body = '{"ticket":{"id":"35436","status":"Solved"}}';
  // printf '%s%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -binary | base64
  const KNOWN = 'YyRbE968m2Xgxwcyhdh4paVeQ0hsKEUJTYJ3xyZunLY=';
  const headers = (signature = KNOWN, timestamp = ts) => ({
    'x-zendesk-webhook-signature': signature,
    'x-zendesk-webhook-signature-timestamp': timestamp,
  });

  it('matches a known answer computed with openssl', () => {
    expect(zendeskSignature(secret, ts, body)).toBe(KNOWN);
  });

  it('accepts a valid signature within the tolerance', () => {
    expect(() => run(spec, [secret], headers(), body, NOW + 299)).not.toThrow();
  });

  it('accepts the previous secret during a rotation', () => {
    expect(() => run(spec, ['the-new-signing-secret', secret], headers(), body)).not.toThrow();
  });

  it('signs with the secret as is (a base64-decoded key does not verify)', () => {
    const decodedKey = Buffer.from(secret, 'base64').toString('utf8');
    expect(() => run(spec, [decodedKey], headers(), body)).toThrow(/does not match/);
  });

  it.each([
    ['a wrong secret', ['wrong'], headers(), body, NOW, /does not match/],
    ['a tampered body', [secret], headers(), body.replace('Solved', 'Open'), NOW, /does not match/],
    [
      'body + timestamp order (the older documentation)',
      [secret],
      headers(zendeskSignature(secret, '', `${body}${ts}`)),
      body,
      NOW,
      /does not match/,
    ],
    ['an expired timestamp', [secret], headers(), body, NOW + 301, /too old/],
    ['a future timestamp', [secret], headers(), body, NOW - 301, /future/],
    ['a timestamp that is not ISO-8601', [secret], headers(KNOWN, '1713374290'), body, NOW, /ISO-8601/],
    [
      'a missing timestamp',
      [secret],
      { 'x-zendesk-webhook-signature': KNOWN },
      body,
      NOW,
      /Signature-Timestamp/,
    ],
    [
      'a missing signature',
      [secret],
      { 'x-zendesk-webhook-signature-timestamp': ts },
      body,
      NOW,
      /Missing signature header\(s\): X-Zendesk-Webhook-Signature$/,
    ],
  ])('rejects %s', (_name, secrets, h, b, now, message) => {
    expect(() => run(spec, secrets, h, b, now)).toThrow(message);
  });
});

describe('Standard Webhooks on a sender route', () => {
  const spec: AuthSpec = { scheme: 'standard-webhooks' };
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"test": 2432232314}';
  const headers = (id = 'msg_p5jXN8AQM9LWM0D4loKWxJek', ts = NOW) => ({
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': sign(secret, id, ts, body),
  });

  it('accepts a valid signature and the previous secret during a rotation', () => {
    expect(() => run(spec, [secret], headers(), body)).not.toThrow();
    expect(() => run(spec, ['whsec_bmV3LXNlY3JldC12YWx1ZQ==', secret], headers(), body)).not.toThrow();
  });

  it.each([
    ['a wrong secret', ['whsec_bmV3LXNlY3JldC12YWx1ZQ=='], headers(), body, NOW, /does not match/],
    ['a tampered body', [secret], headers(), '{"test": 1}', NOW, /does not match/],
    ['an expired timestamp', [secret], headers(undefined, NOW - 301), body, NOW, /too old/],
    [
      'a missing timestamp',
      [secret],
      { 'webhook-id': 'x', 'webhook-signature': 'v1,x' },
      body,
      NOW,
      /webhook-timestamp/,
    ],
    ['missing headers', [secret], {}, body, NOW, /Missing signature header/],
  ])('rejects %s', (_name, secrets, h, b, now, message) => {
    expect(() => run(spec, secrets, h, b, now)).toThrow(message);
  });
});

describe('shared tokens for senders that cannot sign', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it.each([
    ['bearer', { scheme: 'bearer' } as AuthSpec, { authorization: 'Bearer s3cret-token' }],
    ['bearer (any case)', { scheme: 'bearer' } as AuthSpec, { authorization: 'bearer s3cret-token' }],
    ['basic', { scheme: 'basic' } as AuthSpec, { authorization: basic('freshservice', 's3cret-token') }],
    [
      'a named header',
      { scheme: 'header', header: 'x-api-key' } as AuthSpec,
      { 'x-api-key': 's3cret-token' },
    ],
  ])('accepts %s with the right token', (_name, spec, headers) => {
    const secret = spec.scheme === 'basic' ? 'freshservice:s3cret-token' : 's3cret-token';
    expect(() => run(spec, [secret], headers, '{}')).not.toThrow();
  });

  it('accepts the previous token during a rotation', () => {
    expect(() =>
      run({ scheme: 'bearer' }, ['new-token', 'old-token'], { authorization: 'Bearer old-token' }, '{}'),
    ).not.toThrow();
  });

  it.each([
    [
      'a wrong bearer token',
      { scheme: 'bearer' } as AuthSpec,
      { authorization: 'Bearer nope' },
      /do not match/,
    ],
    ['a missing Authorization header', { scheme: 'bearer' } as AuthSpec, {}, /Missing credentials/],
    [
      'a Basic header on a bearer route',
      { scheme: 'bearer' } as AuthSpec,
      { authorization: basic('a', 'b') },
      /Missing credentials/,
    ],
    [
      'a wrong password',
      { scheme: 'basic' } as AuthSpec,
      { authorization: basic('freshservice', 'nope') },
      /do not match/,
    ],
    [
      'a wrong user',
      { scheme: 'basic' } as AuthSpec,
      { authorization: basic('someone', 's3cret-token') },
      /do not match/,
    ],
    [
      'a missing custom header',
      { scheme: 'header', header: 'x-api-key' } as AuthSpec,
      { authorization: 'Bearer s3cret-token' },
      /Missing credentials: x-api-key/,
    ],
  ])('rejects %s', (_name, spec, headers, message) => {
    const secret = spec.scheme === 'basic' ? 'freshservice:s3cret-token' : 's3cret-token';
    expect(() => run(spec, [secret], headers, '{}')).toThrow(message);
  });

  it.each([
    ['Bearer with the secret', 'servicenow-token', { authorization: 'Bearer servicenow-token' }],
    [
      'Basic with the secret as the password, any user',
      'servicenow-token',
      { authorization: basic('svc.eset', 'servicenow-token') },
    ],
    [
      'Basic with user:password when the secret is user:password',
      'svc.eset:pa55',
      { authorization: basic('svc.eset', 'pa55') },
    ],
    [
      'Bearer with a user:password secret as the token',
      'svc.eset:pa55',
      { authorization: 'Bearer svc.eset:pa55' },
    ],
  ])('basic-or-bearer accepts %s', (_name, secret, headers) => {
    expect(() => run({ scheme: 'basic-or-bearer' }, ['other-secret', secret], headers, '{}')).not.toThrow();
  });

  it.each([
    ['a wrong bearer token', 'servicenow-token', { authorization: 'Bearer nope' }, /do not match/],
    [
      'a wrong Basic password',
      'servicenow-token',
      { authorization: basic('svc.eset', 'nope') },
      /do not match/,
    ],
    [
      'the secret as a Basic user name',
      'servicenow-token',
      { authorization: basic('servicenow-token', 'x') },
      /do not match/,
    ],
    [
      'another user for a user:password secret',
      'svc.eset:pa55',
      { authorization: basic('admin', 'pa55') },
      /do not match/,
    ],
    [
      'only the password of a user:password secret as a bearer token',
      'svc.eset:pa55',
      { authorization: 'Bearer pa55' },
      /do not match/,
    ],
    [
      'no Authorization header',
      'servicenow-token',
      {},
      /Missing credentials: Authorization: Basic or Bearer/,
    ],
    [
      'a token in another header',
      'servicenow-token',
      { 'x-api-key': 'servicenow-token' },
      /Missing credentials/,
    ],
  ])('basic-or-bearer rejects %s', (_name, secret, headers, message) => {
    expect(() => run({ scheme: 'basic-or-bearer' }, [secret], headers, '{}')).toThrow(message);
  });

  it('throws SignatureError (401), and a plain Error when the route has no secret at all', () => {
    expect(() => run({ scheme: 'bearer' }, ['t'], {}, '{}')).toThrow(SignatureError);
    expect(() => run({ scheme: 'bearer' }, [], { authorization: 'Bearer t' }, '{}')).toThrow(
      /no secret configured/,
    );
  });
});
