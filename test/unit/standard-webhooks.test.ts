import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sign, verify } from '../../functions/auth/standard-webhooks';
import { SignatureError } from '../../functions/errors/errors';

// The vectors of the Standard Webhooks project's own library tests (libraries/*/ in its
// repository): the secret, message id, payload and signature every reference library checks.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
/** Signatures the reference tests use as wrong ones. */
const SPEC_WRONG = [
  'v1,dawfeoifkpqwoekfpqoekf',
  'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
  'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
  EXPECTED.slice(0, 8),
  'v1,',
];

const headers = (signature: string, over: Partial<{ id: string; timestamp: string }> = {}) => ({
  id: over.id ?? ID,
  timestamp: over.timestamp ?? String(TS),
  signature,
});

/** The spec's reference library, pinned to the vector's time (its verify reads the wall clock). */
function referenceAccepts(secret: string, h: ReturnType<typeof headers>, body: string): boolean {
  vi.useFakeTimers({ now: TS * 1000 });
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': h.id,
      'webhook-timestamp': h.timestamp,
      'webhook-signature': h.signature,
    });
    return true;
  } catch (err) {
    // It parses the body after a matching signature: a body that is no JSON still had one.
    return err instanceof SyntaxError;
  } finally {
    vi.useRealTimers();
  }
}

const oursAccepts = (secret: string, h: ReturnType<typeof headers>, body: string) => {
  try {
    verify([secret], h, body, TS, 300);
    return true;
  } catch {
    return false;
  }
};

afterEach(() => {
  vi.useRealTimers();
});

describe('Standard Webhooks signatures', () => {
  it('reproduces the published test vector, as the reference library does', () => {
    expect(sign(SECRET, ID, TS, BODY)).toBe(EXPECTED);
    expect(new Webhook(SECRET).sign(ID, new Date(TS * 1000), BODY)).toBe(EXPECTED);
  });

  it('accepts the published signature within the tolerance', () => {
    expect(() => verify([SECRET], headers(EXPECTED), BODY, TS + 10, 300)).not.toThrow();
  });

  it("accepts the reference tests' multi-signature header (v1 and v2 decoys around the valid one)", () => {
    const header = [SPEC_WRONG[1], SPEC_WRONG[2], EXPECTED, SPEC_WRONG[1]].join(' ');
    expect(() => verify([SECRET], headers(header), BODY, TS, 300)).not.toThrow();
  });

  it('accepts the previous secret during rotation on our side', () => {
    expect(() =>
      verify(['whsec_bmV3LXNlY3JldC12YWx1ZQ==', SECRET], headers(EXPECTED), BODY, TS, 300),
    ).not.toThrow();
  });

  it.each(SPEC_WRONG)('rejects the reference tests’ wrong signature %s', (signature) => {
    expect(() => verify([SECRET], headers(signature), BODY, TS, 300)).toThrow(SignatureError);
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

  it.each([
    // The MAC ends in "E=": the base64 text's last character carries two padding bits. "F=" decodes
    // to the same 32 bytes under a lenient decoder, but it is not the signature.
    ['altered padding bits', `${EXPECTED.slice(0, -2)}F=`],
    ['missing padding', EXPECTED.replace(/=$/, '')],
    ['trailing characters', `${EXPECTED}AA`],
    ['a trailing new line', `${EXPECTED}\n`],
    ['characters outside base64 inside it', `${EXPECTED.slice(0, 13)}!*${EXPECTED.slice(13)}`],
    ['URL-safe base64', EXPECTED.replaceAll('+', '-').replaceAll('/', '_')],
  ])('rejects a signature with %s that decodes to the right bytes', (_name, signature) => {
    const decodes = Buffer.from(signature.slice(3), 'base64').equals(
      Buffer.from(EXPECTED.slice(3), 'base64'),
    );
    expect(decodes).toBe(true);
    expect(referenceAccepts(SECRET, headers(signature), BODY)).toBe(false);
    expect(() => verify([SECRET], headers(signature), BODY, TS, 300)).toThrow(
      'webhook-signature does not match',
    );
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

  it('agrees with the reference library on altered signatures and bodies', () => {
    const mac = EXPECTED.slice(3);
    const alteredSignature = fc.oneof(
      fc.constant(EXPECTED),
      fc
        .tuple(fc.nat(mac.length - 1), fc.constantFrom(...'AEFQgw+/=-_ \n!'))
        .map(([at, ch]) => `v1,${mac.slice(0, at)}${ch}${mac.slice(at + 1)}`),
      fc.string({ unit: fc.constantFrom(...'A=+/'), maxLength: 3 }).map((tail) => `${EXPECTED}${tail}`),
      fc.nat(mac.length).map((n) => `v1,${mac.slice(0, n)}`),
      fc.base64String({ maxLength: 48 }).map((b) => `v1,${b}`),
    );
    const body = fc.oneof(fc.constant(BODY), fc.string({ maxLength: 30 }));
    fc.assert(
      fc.property(alteredSignature, body, (signature, b) => {
        expect(oursAccepts(SECRET, headers(signature), b)).toBe(
          referenceAccepts(SECRET, headers(signature), b),
        );
      }),
      { numRuns: 300 },
    );
  });
});
