import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  type CreateQueueCommandInput,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';

export interface LocalQueues {
  sqs: SQSClient;
  endpoint: string;
  retryQueueUrl: string;
  deadLetterQueueUrl: string;
  /** Stops the embedded server, if this process started one. */
  close(): Promise<void>;
}

/** Client settings for a local SQS endpoint; the credentials are placeholders it ignores. */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  });
}

/** Starts an in-process SQS-protocol server on loopback. */
export async function startSqsServer(port = 0): Promise<{ server: Server; endpoint: string }> {
  const server = await createSqsServer({ port, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const address = server.address() as AddressInfo;
  return { server, endpoint: `http://127.0.0.1:${address.port}` };
}

/**
 * Creates (or finds) the retry queue and its dead-letter queue, redriving after `maxReceiveCount`
 * receives, as the CDK stack does. Uses the embedded server unless `endpoint` is given.
 */
export async function setUpQueues(opts: {
  endpoint?: string;
  prefix?: string;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}): Promise<LocalQueues> {
  let server: Server | undefined;
  let endpoint = opts.endpoint;
  if (!endpoint) ({ server, endpoint } = await startSqsServer());
  const sqs = localSqsClient(endpoint);
  const prefix = opts.prefix ?? 'eset-close-bridge';
  const dlq = await createOrFind(sqs, {
    QueueName: `${prefix}-dlq`,
    Attributes: { MessageRetentionPeriod: '1209600' },
  });
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const retry = await createOrFind(sqs, {
    QueueName: `${prefix}-retry`,
    Attributes: {
      VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 30),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlqArn,
        maxReceiveCount: opts.maxReceiveCount ?? 5,
      }),
    },
  });
  if (!retry.QueueUrl || !dlq.QueueUrl) throw new Error('queue creation returned no URL');
  return {
    sqs,
    endpoint,
    retryQueueUrl: retry.QueueUrl,
    deadLetterQueueUrl: dlq.QueueUrl,
    close: async () => {
      sqs.destroy();
      if (server) await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
    },
  };
}

/** Visible, in-flight and delayed messages of a queue. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = res.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/**
 * Creates a queue, or takes the existing one as it is when it was created with other attributes
 * (an operator's tuned queue on a shared SQS server must not stop the bridge from starting).
 */
async function createOrFind(sqs: SQSClient, input: CreateQueueCommandInput): Promise<{ QueueUrl?: string }> {
  try {
    return await sqs.send(new CreateQueueCommand(input));
  } catch (err) {
    if ((err as { name?: string }).name !== 'QueueNameExists') throw err;
    return sqs.send(new GetQueueUrlCommand({ QueueName: input.QueueName }));
  }
}
