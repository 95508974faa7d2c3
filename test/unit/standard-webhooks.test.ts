import { describe, expect, it } from 'vitest';
import { SignatureError } from '../../functions/errors/errors';
import { sign, verify } from '../../functions/webhook/standard-webhooks';

// Known-answer vector published by the Standard Webhooks project (libraries/*/ tests).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

const headers = (signature: string, over: Partial<{ id: string; timestamp: string }> = {}) => ({
  id: over.id ?? ID,
  timestamp: over.timestamp ?? String(TS),
  signature,
});

describe('Standard Webhooks signatures', () => {
  it('reproduces the published test vector', () => {
    expect(sign(SECRET, ID, TS, BODY)).toBe(EXPECTED);
  });

  it('accepts the published signature within the tolerance', () => {
    expect(() => verify([SECRET], headers(EXPECTED), BODY, TS + 10, 300)).not.toThrow();
  });

  it('accepts one matching signature among several (sender-side rotation)', () => {
    expect(() => verify([SECRET], headers(`v1,bm9wZQ== ${EXPECTED}`), BODY, TS, 300)).not.toThrow();
  });

  it('accepts the previous secret during rotation on our side', () => {
    expect(() =>
      verify(['whsec_bmV3LXNlY3JldC12YWx1ZQ==', SECRET], headers(EXPECTED), BODY, TS, 300),
    ).not.toThrow();
  });

  it.each([
    ['a tampered body', headers(EXPECTED), '{"test": 2432232315}', TS, /does not match/],
    ['a wrong id', headers(EXPECTED, { id: 'msg_other' }), BODY, TS, /does not match/],
    ['an expired timestamp', headers(EXPECTED), BODY, TS + 301, /too old/],
    ['a future timestamp', headers(EXPECTED), BODY, TS - 301, /future/],
    ['a non-numeric timestamp', headers(EXPECTED, { timestamp: '2021-02-25' }), BODY, TS, /unix seconds/],
    ['no v1 signature', headers('v2,abc'), BODY, TS, /no v1/],
    ['a truncated signature', headers(EXPECTED.slice(0, 20)), BODY, TS, /does not match/],
  ])('rejects %s', (_name, h, body, now, message) => {
    expect(() => verify([SECRET], h, body, now, 300)).toThrow(message);
  });

  it('rejects the right signature under another secret', () => {
    expect(() => verify(['whsec_bmV3LXNlY3JldC12YWx1ZQ=='], headers(EXPECTED), BODY, TS, 300)).toThrow(
      SignatureError,
    );
  });

  it('names the missing headers', () => {
    expect(() =>
      verify([SECRET], { id: undefined, timestamp: undefined, signature: EXPECTED }, BODY, TS, 300),
    ).toThrow('Missing signature header(s): webhook-id, webhook-timestamp');
  });
});
