import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RetryMessage } from './message';

/** Why a message was dead-lettered; travels as SQS message attributes beside the body. */
export interface DeadLetterReason {
  reason: string;
  action?: string;
  lastStatus?: string;
  attempts?: number;
  firstSeen?: string;
  esetRequestId?: string;
  incidentUuid?: string;
  tenant?: string;
  correlationId?: string;
}

/** Where the bridge keeps work ESET could not finish, and where it parks what cannot be finished. */
export interface RetryQueue {
  enqueue(message: RetryMessage, delaySeconds: number): Promise<void>;
  deadLetter(body: string, why: DeadLetterReason): Promise<void>;
}

/** Attributes are capped so a long ESET reason cannot make SQS refuse the dead-letter. */
const MAX_ATTRIBUTE_LENGTH = 1024;

/**
 * Characters SQS refuses in bodies and attributes (anything outside #x9 #xA #xD #x20-#xD7FF
 * #xE000-#xFFFD #x10000-#x10FFFF). JSON.stringify already escapes control characters and lone
 * surrogates, but not U+FFFE / U+FFFF.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
const SQS_REFUSED = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** A JSON text SQS accepts: refused characters written as JSON escapes (the same JSON value). */
export function sqsSafeJson(json: string): string {
  return json.replace(SQS_REFUSED, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** Free text (an attribute) SQS accepts: refused characters become U+FFFD. */
function sqsSafeText(text: string): string {
  return text.replace(SQS_REFUSED, '\uFFFD');
}

/**
 * The SQS retry queue. The SDK is imported on first use: most requests close at once and never
 * need it, and loading it costs cold-start time.
 */
export class SqsRetryQueue implements RetryQueue {
  private client: Promise<{ sqs: SQSClient; mod: typeof import('@aws-sdk/client-sqs') }> | undefined;

  constructor(
    private readonly opts: {
      retryQueueUrl?: string;
      deadLetterQueueUrl?: string;
      /** A ready client (tests, local runtime); otherwise one is built from the environment. */
      client?: SQSClient;
    },
  ) {}

  async enqueue(message: RetryMessage, delaySeconds: number): Promise<void> {
    const url = this.opts.retryQueueUrl;
    if (!url) throw new Error('RETRY_QUEUE_URL is not configured');
    const { sqs, mod } = await this.load();
    await sqs.send(
      new mod.SendMessageCommand({
        QueueUrl: url,
        MessageBody: sqsSafeJson(JSON.stringify(message)),
        DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
        MessageAttributes: {
          incidentUuid: { DataType: 'String', StringValue: message.incidentUuid },
          tenant: { DataType: 'String', StringValue: sqsSafeText(message.tenant) },
          ...(message.why ? { why: { DataType: 'String', StringValue: message.why } } : {}),
        },
      }),
    );
  }

  async deadLetter(body: string, why: DeadLetterReason): Promise<void> {
    const url = this.opts.deadLetterQueueUrl;
    if (!url) throw new Error('DEAD_LETTER_QUEUE_URL is not configured');
    const { sqs, mod } = await this.load();
    const attrs: Record<string, { DataType: string; StringValue: string }> = {};
    for (const [key, value] of Object.entries(why)) {
      if (value === undefined || value === '') continue;
      const isNumber = typeof value === 'number';
      attrs[key] = {
        DataType: isNumber ? 'Number' : 'String',
        StringValue: sqsSafeText(String(value).slice(0, MAX_ATTRIBUTE_LENGTH)),
      };
    }
    await sqs.send(
      // A body received from SQS is unchanged by sqsSafeJson; one the bridge wrote gets its escapes.
      new mod.SendMessageCommand({ QueueUrl: url, MessageBody: sqsSafeJson(body), MessageAttributes: attrs }),
    );
  }

  private load() {
    this.client ??= import('@aws-sdk/client-sqs').then((mod) => ({
      mod,
      sqs: this.opts.client ?? new mod.SQSClient({}),
    }));
    return this.client;
  }
}
