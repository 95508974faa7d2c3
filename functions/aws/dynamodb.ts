import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const isLoopback = (url: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

/**
 * A DynamoDB client, imported on first use (a cold start that only verifies a signature never
 * loads the SDK). `endpoint`: a DynamoDB-protocol server (dynalite locally); a loopback one gets
 * placeholder credentials, anything else the normal provider chain.
 */
export async function loadDynamo(
  endpoint?: string,
  ready?: DynamoDBClient,
): Promise<{
  client: DynamoDBClient;
  mod: typeof import('@aws-sdk/client-dynamodb');
}> {
  const mod = await import('@aws-sdk/client-dynamodb');
  if (ready) return { client: ready, mod };
  const client = new mod.DynamoDBClient(
    endpoint
      ? {
          endpoint,
          region: process.env.AWS_REGION ?? 'us-east-1',
          ...(isLoopback(endpoint)
            ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
            : {}),
        }
      : {},
  );
  return { client, mod };
}
