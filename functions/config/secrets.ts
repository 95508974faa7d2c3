import { BridgeError } from '../errors/errors';
import { TokenError } from '../eset/token-provider';
import { parseRouteSecrets, type RouteSecrets } from '../senders/routes';
import type { Credentials, SecretSource } from './config';
import type { JiraCredentials } from './sync-config';

/** Secrets are cached this long, then read again (so a rotated value is picked up). */
const SECRET_MAX_AGE_SECONDS = 300;

/** Secrets Manager could not be read: the sender retries (503), nothing is decided meanwhile. */
export class SecretUnavailableError extends BridgeError {
  override name = 'SecretUnavailableError';
  constructor() {
    super('A secret the bridge needs is unavailable; please retry later', { statusCode: 503, expose: true });
  }
}

async function fetchSecret(arn: string): Promise<string> {
  // Loaded on first use: local runs and tests never need the Secrets Manager client.
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (typeof value !== 'string' || value === '') throw new Error('secret has no string value');
  return value;
}

/**
 * A JSON secret from Secrets Manager, parsed. Its errors are the caller's, and never carry the
 * parser's message: that would quote the secret.
 */
async function readJsonSecret(arn: string, errors: { unavailable: () => Error; notJson: () => Error }) {
  let raw: string;
  try {
    raw = await fetchSecret(arn);
  } catch {
    throw errors.unavailable();
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw errors.notJson();
  }
}

/**
 * ESET API user: `{"username","password"}` from Secrets Manager, or the local variables. Problems
 * name what is wrong, never the value: a parser's message would quote the secret.
 */
export function credentialsResolver(source: SecretSource<Credentials>): () => Promise<Credentials> {
  if (source.kind === 'value') return () => Promise.resolve(source.value);
  return async () => {
    const parsed = await readJsonSecret(source.arn, {
      unavailable: () =>
        new TokenError('the ESET credentials secret could not be read from Secrets Manager', false),
      notJson: () => new TokenError('the ESET credentials secret is not JSON {"username","password"}', true),
    });
    const { username, password } = (parsed ?? {}) as Partial<Credentials>;
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
      throw new TokenError('the ESET credentials secret must be JSON {"username","password"}', true);
    }
    return { username, password };
  };
}

/**
 * Webhook secrets per route (functions/senders/routes.ts, `RouteSecrets`): a plain `whsec_` value
 * (several separated by spaces: current first, then the previous one while senders move over) is
 * the canonical route's; a JSON object gives each route its own. From Secrets Manager (re-read
 * every few minutes, so a rotation is picked up) or the local variable. Secrets Manager down:
 * SecretUnavailableError (503).
 */
export function webhookSecretsResolver(source: SecretSource<string>): () => Promise<RouteSecrets> {
  if (source.kind === 'value') {
    const secrets = parseRouteSecrets(source.value);
    return () => Promise.resolve(secrets);
  }
  let last: { raw: string; parsed: RouteSecrets } | undefined;
  return async () => {
    let raw: string;
    try {
      raw = await fetchSecret(source.arn);
    } catch {
      throw new SecretUnavailableError();
    }
    if (last?.raw !== raw) last = { raw, parsed: parseRouteSecrets(raw) };
    return last.parsed;
  };
}

/**
 * The sync's Jira API user: `{"email","apiToken"}` from Secrets Manager (re-read every few
 * minutes, so a new token is picked up), or JIRA_EMAIL and JIRA_API_TOKEN. Problems name what is
 * wrong, never the value.
 */
export function jiraCredentialsResolver(
  source: SecretSource<JiraCredentials>,
): () => Promise<JiraCredentials> {
  if (source.kind === 'value') return () => Promise.resolve(source.value);
  return async () => {
    const parsed = await readJsonSecret(source.arn, {
      unavailable: () => new SecretUnavailableError(),
      notJson: () => new Error('the Jira credentials secret is not JSON {"email","apiToken"}'),
    });
    const { email, apiToken } = (parsed ?? {}) as Partial<JiraCredentials>;
    if (typeof email !== 'string' || typeof apiToken !== 'string' || !email || !apiToken) {
      throw new Error('the Jira credentials secret must be JSON {"email","apiToken"}');
    }
    return { email, apiToken };
  };
}

/** A secret string (the sync's webhook signing secret), from Secrets Manager or the local variable. */
export function secretStringResolver(source: SecretSource<string>): () => Promise<string> {
  if (source.kind === 'value') return () => Promise.resolve(source.value);
  return async () => {
    try {
      return (await fetchSecret(source.arn)).trim();
    } catch {
      throw new SecretUnavailableError();
    }
  };
}
