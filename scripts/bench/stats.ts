/** Small statistics helpers for the benchmarks. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** The environment of a deployed Lambda, as far as the bridge reads it (values are placeholders). */
export function lambdaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_REGION: 'eu-central-1',
    ESET_REGION: 'eu',
    ESET_USERNAME: 'bench-api-user@example.com',
    ESET_PASSWORD: 'bench-password',
    WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    RETRY_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/eset-close-bridge-retry',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/eset-close-bridge-dlq',
    STATE_TABLE: 'eset-close-bridge-state',
    POWERTOOLS_SERVICE_NAME: 'eset-close-bridge',
    POWERTOOLS_METRICS_NAMESPACE: 'EsetCloseBridge',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    ...extra,
  };
}
