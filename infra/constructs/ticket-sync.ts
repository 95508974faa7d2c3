import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  SyncMetricName,
  type SyncMetricNameValue,
} from '../../functions/observability/metric-names';
import { BridgeFunction } from './bridge-function';
import type { SyncSettings } from './settings';
import { BUDGET_ACTIONS, BUDGET_KEYS_CONDITION, STATE_ACTIONS } from './state-table';

export interface TicketSyncProps {
  readonly settings: SyncSettings;
  /** Absolute path of `functions/sync.ts`. */
  readonly entry: string;
  /** The variables the sync shares with the other Lambdas (ESET, the state table, timings). */
  readonly environment: Record<string, string>;
  readonly stateTable: dynamodb.ITable;
  readonly esetCredentials: secretsmanager.ISecret;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
  readonly sourceMaps?: boolean;
  readonly alarmTopic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
}

/**
 * One run's time: a list page per 1000 changed incidents and a comment read per changed incident
 * at the sync's own pace, plus the target's calls. A run cut short saves where it stopped.
 */
export const SYNC_TIMEOUT = Duration.minutes(5);

/**
 * The ESET-to-ticket sync (README.md, "Tickets from ESET incidents"): an EventBridge schedule
 * every `syncIntervalSeconds` invokes the sync Lambda (one at a time: reserved concurrency 1; a
 * tick that finds it busy is dropped, never queued up), which reads ESET's incident list and
 * writes to Jira or to a webhook URL. Its secret (Jira credentials `{"email","apiToken"}`, or the
 * webhook's `whsec_` signing secret) starts as a placeholder. It may read and write single items
 * of the state table and read its two secrets; nothing else. Two alarms (errors, lag past two
 * intervals) and a dashboard row.
 */
export class TicketSync extends Construct {
  readonly function: BridgeFunction;
  readonly secret: secretsmanager.Secret;
  readonly rule: events.Rule;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: TicketSyncProps) {
    super(scope, id);
    const { settings } = props;
    const jira = settings.target === 'jira';

    this.secret = jira
      ? new secretsmanager.Secret(this, 'JiraCredentials', {
          description:
            'Jira Cloud API user of the ESET-to-ticket sync as {"email","apiToken"}; set the real values after deploy.',
          generateSecretString: {
            secretStringTemplate: JSON.stringify({ email: 'REPLACE_WITH_JIRA_API_USER_EMAIL' }),
            generateStringKey: 'apiToken',
            excludePunctuation: true,
            passwordLength: 32,
          },
        })
      : new secretsmanager.Secret(this, 'WebhookSigningSecret', {
          description:
            'Standard Webhooks signing secret (whsec_...) of the sync events; set the real value after deploy.',
          generateSecretString: { excludePunctuation: true, passwordLength: 32 },
        });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The value is issued outside AWS (a Jira API token made by the Jira user, or the signing secret ' +
        'shared with the webhook receiver) and must be changed there first; Secrets Manager rotation ' +
        'cannot do that. Manual rotation is described in README.md (Operate).',
    });

    this.function = new BridgeFunction(this, 'Function', {
      entry: props.entry,
      description: 'ESET-to-ticket sync: list incidents by update time, open and update their tickets.',
      timeout: SYNC_TIMEOUT,
      memorySize: 256,
      logRetention: props.logRetention,
      tracing: props.tracing,
      sourceMaps: props.sourceMaps,
      // One run at a time: the watermark and the links are written by one run, and the sync
      // takes one process's share of ESET's rate limit.
      reservedConcurrentExecutions: 1,
      environment: {
        // Its ESET calls come from the shared budget (STATE_TABLE) at the `sync` priority.
        ...props.environment,
        SYNC_TARGET: settings.target,
        SYNC_INTERVAL_SECONDS: String(settings.intervalSeconds),
        SYNC_MIN_SEVERITY: settings.minSeverity,
        ...(settings.incidentUrl ? { SYNC_INCIDENT_URL: settings.incidentUrl } : {}),
        ...(settings.jira
          ? {
              JIRA_BASE_URL: settings.jira.baseUrl,
              JIRA_PROJECT_KEY: settings.jira.projectKey,
              JIRA_ISSUE_TYPE: settings.jira.issueType,
              JIRA_CREDENTIALS_SECRET_ARN: this.secret.secretArn,
              ...(settings.jira.bridgeAccountId
                ? { JIRA_BRIDGE_ACCOUNT_ID: settings.jira.bridgeAccountId }
                : {}),
            }
          : {}),
        ...(settings.webhookUrl
          ? { SYNC_WEBHOOK_URL: settings.webhookUrl, SYNC_WEBHOOK_SECRET_ARN: this.secret.secretArn }
          : {}),
      },
    });
    this.function.allow('SyncState', [...STATE_ACTIONS], [props.stateTable.tableArn]);
    this.function.allow(
      'SharedEsetBudget',
      [...BUDGET_ACTIONS],
      [props.stateTable.tableArn],
      BUDGET_KEYS_CONDITION,
    );
    this.function.allow(
      'ReadSecrets',
      ['secretsmanager:GetSecretValue'],
      [props.esetCredentials.secretArn, this.secret.secretArn],
    );

    // A tick that meets the running sync is throttled (reserved concurrency 1): drop it rather than
    // let Lambda hold it for hours; the next tick comes within one interval.
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
    const interval = Duration.seconds(settings.intervalSeconds);
    this.function.fn.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.seconds(Math.max(60, settings.intervalSeconds)),
    });
    this.rule = new events.Rule(this, 'Schedule', {
      description: `Runs the ESET-to-ticket sync every ${settings.intervalSeconds} s.`,
      schedule: events.Schedule.rate(interval),
      targets: [
        new targets.LambdaFunction(this.function.fn, {
          retryAttempts: 0,
          maxEventAge: Duration.seconds(Math.max(60, settings.intervalSeconds)),
        }),
      ],
    });

    this.monitor(props, settings);

    const output = (outputId: string, value: string, description: string) =>
      new CfnOutput(Stack.of(this), outputId, { value, description });
    output(
      'SyncSecretName',
      this.secret.secretName,
      jira
        ? 'Set the Jira API user here: {"email","apiToken"}.'
        : 'Set the webhook signing secret (whsec_...) here; give the receiver the same value.',
    );
    output('SyncLogGroupName', this.function.logGroup.logGroupName, 'Logs of the sync Lambda.');
    output('SyncScheduleRuleName', this.rule.ruleName, 'Disable/enable this rule to pause/resume the sync.');
  }

  private monitor(props: TicketSyncProps, settings: SyncSettings): void {
    const stackName = Stack.of(this).stackName;
    const fn = this.function.fn;
    const metric = (name: SyncMetricNameValue, statistic: string, period: Duration, label?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period,
        ...(label ? { label } : {}),
      });
    const five = Duration.minutes(5);
    const alarm = (
      alarmId: string,
      config: Omit<cloudwatch.AlarmProps, 'alarmName' | 'evaluationPeriods'>,
    ) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${stackName}-${alarmId}`,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        ...config,
        alarmDescription: `${config.alarmDescription} Runbook: README.md (Operate), alarm ${alarmId}.`,
      });
      created.addAlarmAction(new SnsAction(props.alarmTopic));
      created.addOkAction(new SnsAction(props.alarmTopic));
      this.alarms.push(created);
      return created;
    };

    alarm('SyncErrors', {
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(gaveUp, 0)',
        usingMetrics: {
          errors: fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: five }),
          gaveUp: metric(SyncMetricName.SyncGaveUp, cloudwatch.Stats.SUM, five),
        },
        period: five,
        label: 'sync errors and news given up',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'The sync Lambda failed (crash, timeout, configuration, ESET refused the list), or gave up telling a ticket something after repeated refusals.',
    });
    // Every run reports its lag; a period of two intervals always holds one unless the sync is not
    // running at all, which is breaching too.
    const lagPeriod = Duration.seconds(Math.max(60, Math.ceil((2 * settings.intervalSeconds) / 60) * 60));
    alarm('SyncLag', {
      metric: metric(SyncMetricName.SyncLagSeconds, cloudwatch.Stats.MAXIMUM, lagPeriod),
      threshold: 2 * settings.intervalSeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `Tickets are more than two sync intervals (${2 * settings.intervalSeconds} s) behind ESET, or the sync is not running.`,
    });

    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 12, height: 6 });
    props.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync lag (s)',
        left: [metric(SyncMetricName.SyncLagSeconds, cloudwatch.Stats.MAXIMUM, five, 'SyncLagSeconds max')],
        leftAnnotations: [{ value: 2 * settings.intervalSeconds, label: 'alarm: two intervals' }],
        width: 12,
        height: 6,
      }),
      graph(
        'Sync: tickets, news and ESET calls',
        [
          metric(
            SyncMetricName.SyncTicketsCreated,
            cloudwatch.Stats.SUM,
            five,
            SyncMetricName.SyncTicketsCreated,
          ),
          metric(SyncMetricName.SyncNewsTold, cloudwatch.Stats.SUM, five, SyncMetricName.SyncNewsTold),
          metric(SyncMetricName.SyncGaveUp, cloudwatch.Stats.SUM, five, SyncMetricName.SyncGaveUp),
        ],
        [metric(SyncMetricName.SyncEsetCalls, cloudwatch.Stats.SUM, five, SyncMetricName.SyncEsetCalls)],
      ),
    );
    props.dashboard.addWidgets(
      graph(
        'Sync Lambda errors, throttles and duration',
        [
          fn.metricErrors({ statistic: cloudwatch.Stats.SUM, label: 'sync errors' }),
          fn.metricThrottles({
            statistic: cloudwatch.Stats.SUM,
            label: 'sync throttles (a busy tick, dropped)',
          }),
        ],
        [fn.metricDuration({ statistic: cloudwatch.Stats.MAXIMUM, label: 'sync duration max' })],
      ),
      new cloudwatch.AlarmStatusWidget({ title: 'Sync alarms', alarms: this.alarms, width: 12, height: 6 }),
    );
  }
}
