import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * How often one retry message may be received and not deleted before SQS moves it to the DLQ.
 * The retry Lambda never "retries" by leaving a message in the queue: every attempt ends by
 * deleting the message and, if needed, enqueuing a NEW one with a delay (or by sending it to
 * the DLQ itself, with the reason). So the receive count only counts crashes and timeouts of
 * one attempt; five of those in a row means the message itself is the problem.
 */
export const MAX_RECEIVE_COUNT = 5;

/**
 * Lambda's guidance for SQS event sources: visibility timeout at least six times the function
 * timeout, so a batch that is retried after a throttle or crash is not received twice.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface RetryQueuesProps {
  /** The timeout of the Lambda that consumes the retry queue. */
  readonly consumerTimeout: Duration;
}

/** The retry queue and its dead-letter queue: SQS-managed encryption, TLS only. */
export class RetryQueues extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RetryQueuesProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The maximum: an operator has two weeks to read the reason and redrive.
      retentionPeriod: Duration.days(14),
      // Each message is a close request nobody has finished yet: `cdk destroy` must not drop it.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.queue = new sqs.Queue(this, 'RetryQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * props.consumerTimeout.toSeconds()),
      // One message lives one attempt: at most its delay (RETRY_MAX_DELAY_SECONDS, 900 s) plus a
      // few visibility timeouts. The 24 h retry budget is counted from the first-seen time inside
      // the message, not by SQS. Four days leaves room for an ESET outage with the consumer paused.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
