import type { Clock } from '../clock/clock';
import type { Credentials } from '../config/config';
import type { TokenAnswer } from './token-answer';

/** The token endpoint refused or could not be reached. `rejected`: the credentials are wrong. */
export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    message: string,
    readonly rejected: boolean,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

interface CachedToken {
  accessToken: string;
  refreshToken?: string;
  usableUntil: number;
}

/** How long before expiry a cached token is no longer handed out: a minute, or a tenth of short lifetimes. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * ESET IAM tokens, cached per container. One token request at a time however many calls wait
 * (single flight); refresh grant first, password grant when the refresh token is refused
 * (ESET's refresh tokens die after some days with `400 invalid_grant`).
 */
export class TokenProvider {
  private cached: CachedToken | undefined;
  private inflight: Promise<string> | undefined;
  /** Token requests made, by grant; read by tests and benchmarks. */
  readonly requests = { password: 0, refresh: 0 };

  constructor(
    private readonly opts: {
      authUrl: string;
      credentials: () => Promise<Credentials>;
      clock: Clock;
      fetch?: typeof fetch;
      timeoutMs: number;
      integrationName: string;
    },
  ) {}

  /**
   * A valid access token, from the cache when possible (no timer on that hot path). A caller
   * that has to wait for the token request gives up at `deadline` (ms since epoch); the request
   * itself goes on for the other callers.
   */
  get(deadline = Number.POSITIVE_INFINITY): Promise<string> {
    const c = this.cached;
    if (c && c.usableUntil > this.opts.clock.now()) return Promise.resolve(c.accessToken);
    if (!this.inflight) {
      this.inflight = this.obtain().finally(() => {
        this.inflight = undefined;
      });
    }
    const p = this.inflight;
    if (deadline === Number.POSITIVE_INFINITY) return p;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new TokenError('token request abandoned: time budget spent', false)),
        Math.max(0, deadline - this.opts.clock.now()),
      );
      p.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }

  /** A cached token is usable now: a call would not wait for a token request. */
  hasToken(): boolean {
    const c = this.cached;
    return c !== undefined && c.usableUntil > this.opts.clock.now();
  }

  /** Drops the access token ESET answered 401 to, unless a newer one was already obtained. */
  invalidate(accessToken: string): void {
    if (this.cached?.accessToken === accessToken) this.cached = { ...this.cached, usableUntil: 0 };
  }

  private async obtain(): Promise<string> {
    const refreshToken = this.cached?.refreshToken;
    if (refreshToken) {
      try {
        return await this.grant({ grant_type: 'refresh_token', refresh_token: refreshToken }, 'refresh');
      } catch (err) {
        if (!(err instanceof TokenError && err.rejected)) throw err;
        // refresh token expired or revoked: fall back to the password grant
      }
    }
    const { username, password } = await this.opts.credentials();
    return this.grant({ grant_type: 'password', username, password }, 'password');
  }

  private async grant(form: Record<string, string>, kind: 'password' | 'refresh'): Promise<string> {
    this.requests[kind] += 1;
    const doFetch = this.opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(`${this.opts.authUrl}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          '3rd-integration': this.opts.integrationName,
        },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw new TokenError(`token endpoint unreachable (${kind} grant)`, false, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      // 400 invalid_grant / 401: the grant itself is refused; anything else is the service failing.
      throw new TokenError(
        `token endpoint answered ${res.status} (${kind} grant)`,
        res.status === 400 || res.status === 401,
      );
    }
    // Loaded on the first token request (once per container), not at cold start.
    const { parseTokenAnswer } = await import('./token-answer');
    let parsed: TokenAnswer;
    try {
      parsed = parseTokenAnswer(JSON.parse(text));
    } catch (err) {
      throw new TokenError(`token endpoint answered 200 without a usable token (${kind} grant)`, false, {
        cause: err,
      });
    }
    const ttlMs = (parsed.expires_in ?? 3600) * 1000;
    this.cached = {
      accessToken: parsed.access_token,
      ...(parsed.refresh_token ? { refreshToken: parsed.refresh_token } : {}),
      usableUntil: this.opts.clock.now() + ttlMs - Math.min(EXPIRY_MARGIN_MS, ttlMs / 10),
    };
    return parsed.access_token;
  }
}
