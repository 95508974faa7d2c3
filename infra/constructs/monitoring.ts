import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE as METRIC_NAMESPACE,
  MetricName,
  type MetricNameValue,
  SERVICE_NAME,
} from '../../functions/observability/metric-names';

export interface MonitoringProps {
  readonly receiveFunction: lambda.IFunction;
  readonly retryFunction: lambda.IFunction;
  readonly retryQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly alarmEmail?: string;
  /** Alarm when the oldest retry message is older than this many seconds. */
  readonly oldestRetryAgeAlarmSeconds: number;
  /** Alarm when ESET refuses this many closes within 15 minutes. */
  readonly rejectedAlarmThreshold: number;
  /** The ESET tenants: the dashboard shows each one's calls per second against ESET's limit. */
  readonly tenants: readonly string[];
}

const FIVE_MINUTES = Duration.minutes(5);

/** One of the bridge's EMF metrics, with the single `service` dimension Powertools adds. */
export function bridgeMetric(
  metricName: MetricNameValue,
  options: { statistic?: string; period?: Duration; label?: string } = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: options.statistic ?? cloudwatch.Stats.SUM,
    period: options.period ?? FIVE_MINUTES,
    ...(options.label ? { label: options.label } : {}),
  });
}

/**
 * Alarms to an SNS topic and one dashboard. Every alarm's description names its runbook as
 * docs/operations.md. Missing data is "not breaching" throughout: the EMF counters are
 * only written when the event happens, and an idle queue stops reporting after six hours.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;

    // TLS-only publishing (topic policy). No KMS key: notifications carry alarm names and metric
    // values only, and CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ESET close bridge alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      comparisonOperator: cloudwatch.ComparisonOperator,
      description: string,
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${stackName}-${alarmId}`,
        alarmDescription: `${description} Runbook: docs/operations.md, alarm ${alarmId}.`,
        metric,
        threshold,
        comparisonOperator,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      created.addOkAction(new SnsAction(this.topic));
      this.alarms.push(created);
      return created;
    };
    const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

    alarm(
      'DeadLetterQueueNotEmpty',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      0,
      GT,
      'A close request was parked in the dead-letter queue: ESET refused it or the retry budget ran out.',
    );
    alarm(
      'RetryQueueOldestMessage',
      props.retryQueue.metricApproximateAgeOfOldestMessage({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: FIVE_MINUTES,
      }),
      props.oldestRetryAgeAlarmSeconds,
      GT,
      'A retry message has waited longer than any backoff delay: the retry Lambda is not consuming.',
    );
    for (const [name, fn] of [
      ['Receive', props.receiveFunction],
      ['Retry', props.retryFunction],
    ] as const) {
      alarm(
        `${name}Errors`,
        fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
        1,
        GTE,
        `The ${name.toLowerCase()} Lambda failed (crash, timeout or configuration error).`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
        1,
        GTE,
        `The ${name.toLowerCase()} Lambda was throttled.`,
      );
    }
    alarm(
      'EsetAuthFailure',
      bridgeMetric(MetricName.EsetAuthFailure),
      1,
      GTE,
      'ESET Connect answered 401 or refused to issue a token: the API user credentials are wrong, expired or locked.',
    );
    alarm(
      'RejectedCloses',
      bridgeMetric(MetricName.Rejected, { period: Duration.minutes(15) }),
      props.rejectedAlarmThreshold,
      GTE,
      `ESET refused ${props.rejectedAlarmThreshold} or more closes within 15 minutes (400/403/404).`,
    );
    alarm(
      'EnqueueFailed',
      bridgeMetric(MetricName.EnqueueFailed),
      1,
      GTE,
      'The receive Lambda could not write to the retry queue: the sender got an error and must resend.',
    );
    alarm(
      'StateStoreFailed',
      bridgeMetric(MetricName.StateStoreFailed),
      1,
      GTE,
      'The incident records (STATE_TABLE) could not be read or written: senders got 503 and must resend.',
    );

    alarm(
      'EsetThrottled',
      bridgeMetric(MetricName.EsetThrottled),
      10,
      GTE,
      'ESET answered 429 ten or more times within 5 minutes: the shared budget is exceeded (another client on the same API user?) or ESET throttles harder than documented.',
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${stackName}-dashboard`,
      defaultInterval: Duration.days(1),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    const queueDepth = (queue: sqs.IQueue, name: string) => [
      queue.metricApproximateNumberOfMessagesVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        label: `${name} visible`,
      }),
      queue.metricApproximateNumberOfMessagesDelayed({
        statistic: cloudwatch.Stats.MAXIMUM,
        label: `${name} delayed`,
      }),
      queue.metricApproximateNumberOfMessagesNotVisible({
        statistic: cloudwatch.Stats.MAXIMUM,
        label: `${name} in flight`,
      }),
    ];
    const lambdaHealth = (fn: lambda.IFunction, name: string) => [
      fn.metricErrors({ statistic: cloudwatch.Stats.SUM, label: `${name} errors` }),
      fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, label: `${name} throttles` }),
    ];

    this.dashboard.addWidgets(
      graph(
        'Requests by outcome',
        [
          MetricName.Closed,
          MetricName.Reopened,
          MetricName.Commented,
          MetricName.AlreadyInState,
          MetricName.Queued,
          MetricName.Rejected,
          MetricName.DeadLettered,
          MetricName.InvalidRequest,
          MetricName.SignatureRejected,
          MetricName.Duplicate,
          MetricName.Stale,
          MetricName.ReasonConflict,
          MetricName.Ignored,
        ].map((name) => bridgeMetric(name, { label: name })),
      ),
      graph(
        'ESET latency (ms) and calls',
        [
          bridgeMetric(MetricName.EsetLatency, {
            statistic: cloudwatch.Stats.p(50),
            label: 'EsetLatency p50',
          }),
          bridgeMetric(MetricName.EsetLatency, {
            statistic: cloudwatch.Stats.p(99),
            label: 'EsetLatency p99',
          }),
        ],
        [bridgeMetric(MetricName.EsetCalls, { label: MetricName.EsetCalls })],
      ),
    );
    this.dashboard.addWidgets(
      graph('Queue depth', [
        ...queueDepth(props.retryQueue, 'retry'),
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'DLQ visible',
        }),
      ]),
      graph('Oldest message age (s)', [
        props.retryQueue.metricApproximateAgeOfOldestMessage({
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'retry',
        }),
        props.deadLetterQueue.metricApproximateAgeOfOldestMessage({
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'DLQ',
        }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Retries and failures',
        [
          MetricName.Retried,
          MetricName.PendingResend,
          MetricName.EnqueueFailed,
          MetricName.StateStoreFailed,
          MetricName.Redriven,
          MetricName.EsetAuthFailure,
        ].map((name) => bridgeMetric(name, { label: name })),
      ),
      graph('Lambda errors and throttles', [
        ...lambdaHealth(props.receiveFunction, 'receive'),
        ...lambdaHealth(props.retryFunction, 'retry'),
      ]),
    );
    // What each sender's deliveries came to: one line per route and result.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Webhook requests per route and result',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRIC_NAMESPACE},result,route,service} MetricName="${MetricName.Requests}"', 'Sum', 300)`,
            label: '',
            period: FIVE_MINUTES,
          }),
        ],
        width: 24,
        height: 6,
      }),
    );
    // Calls per second per tenant (sum per minute / 60) against ESET's 10 per second per API user.
    const perSecond = (tenant: string, metricName: MetricNameValue, i: number) =>
      new cloudwatch.MathExpression({
        expression: `m${i} / 60`,
        usingMetrics: {
          [`m${i}`]: new cloudwatch.Metric({
            namespace: METRIC_NAMESPACE,
            metricName,
            dimensionsMap: { service: SERVICE_NAME, tenant },
            statistic: cloudwatch.Stats.SUM,
            period: Duration.minutes(1),
          }),
        },
        label: `${tenant} ${metricName === MetricName.EsetThrottled ? '429/s' : 'calls/s'}`,
        period: Duration.minutes(1),
      });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'ESET calls per second per tenant (limit 10 per API user)',
        left: props.tenants.flatMap((t, i) => [
          perSecond(t, MetricName.EsetCalls, 2 * i),
          perSecond(t, MetricName.EsetThrottled, 2 * i + 1),
        ]),
        leftAnnotations: [{ value: 10, label: "ESET's limit", color: '#d62728' }],
        width: 24,
        height: 6,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
  }
}
