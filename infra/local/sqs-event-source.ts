import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn?: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
  batchSize?: number;
  waitTimeSeconds?: number;
  /** Called when a poll fails (SQS unreachable); the source keeps polling. */
  onError?: (err: unknown) => void;
  /** Called after each batch with what happened to it. */
  onBatch?: (batch: { received: number; deleted: number; failed: number; threw?: unknown }) => void;
}

/**
 * Feeds a handler from an SQS queue the way Lambda's SQS event source mapping does: long polling,
 * batches of real SQSRecord shapes, deletion of the records not listed in `batchItemFailures`,
 * and nothing deleted when the handler throws (the visibility timeout then redelivers, and the
 * queue's redrive policy moves a message to the DLQ after maxReceiveCount receives).
 */
export class SqsEventSource {
  private running = false;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(private readonly opts: EventSourceOptions) {}

  /** Polls until stop(); a batch in hand is always finished. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.run();
  }

  /**
   * Stops polling and waits for the batch in hand to finish. The long poll in progress is let run
   * out (at most `waitTimeSeconds`): aborting it on the client leaves the server delivering
   * into nowhere, and those messages stay invisible for a whole visibility timeout.
   * `{ abortPoll: true }` ends it at once when that does not matter (tests tearing down).
   */
  async stop(opts: { abortPoll?: boolean } = {}): Promise<void> {
    this.running = false;
    if (opts.abortPoll) this.abort.abort();
    await this.loop;
  }

  /** Receives and handles one batch; returns how many messages it received. */
  async pollOnce(waitTimeSeconds = this.opts.waitTimeSeconds ?? 1): Promise<number> {
    let messages: Message[];
    try {
      const res = await this.opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MaxNumberOfMessages: this.opts.batchSize ?? 10,
          WaitTimeSeconds: waitTimeSeconds,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: this.abort.signal },
      );
      messages = res.Messages ?? [];
    } catch (err) {
      if (this.abort.signal.aborted) return 0;
      throw err;
    }
    if (messages.length === 0) return 0;
    const records = messages.map((m) => toRecord(m, this.opts.queueArn ?? arnOf(this.opts.queueUrl)));
    let failed = new Set<string>();
    let threw: unknown;
    try {
      const result = await this.opts.handler({ Records: records });
      failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      threw = err;
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = messages.filter((m) => m.MessageId && !failed.has(m.MessageId));
    if (done.length > 0) {
      await this.opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    this.opts.onBatch?.({
      received: messages.length,
      deleted: done.length,
      failed: failed.size,
      ...(threw ? { threw } : {}),
    });
    return messages.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (err) {
        // SQS unreachable for a moment: say so, wait a little, poll again (as the event source mapping does)
        this.opts.onError?.(err);
        if (this.running) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

function arnOf(queueUrl: string): string {
  const parts = new URL(queueUrl).pathname.split('/').filter(Boolean);
  return `arn:aws:sqs:us-east-1:${parts[0] ?? '000000000000'}:${parts[1] ?? 'queue'}`;
}

function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = (m.Attributes ?? {}) as Record<string, string>;
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}
