import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { BridgeFunction } from './constructs/bridge-function';
import { Monitoring } from './constructs/monitoring';
import { MAX_RECEIVE_COUNT, RetryQueues, VISIBILITY_TIMEOUT_FACTOR } from './constructs/retry-queues';
import { readSettings } from './constructs/settings';
import { BUDGET_ACTIONS, BUDGET_KEYS_CONDITION, STATE_ACTIONS, StateTable } from './constructs/state-table';
import { TicketSync } from './constructs/ticket-sync';

/** Repository root: the functions are bundled from here with the root lock file. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The senders' own timeouts (Zendesk ~10 s): the receive Lambda answers within them. */
const RECEIVE_TIMEOUT = Duration.seconds(10);
/** All the receive Lambda's ESET work for one webhook; what it cannot finish goes to the retry path. */
const RECEIVE_ESET_TIMEOUT_MS = 8000;
/**
 * One retry-path call's wait for ESET. ESET answers 202 + response-id only after about 30 s
 * (older pages and its error-code page: 50 s), so a call is given longer than that to get there.
 */
const RETRY_ESET_TIMEOUT_MS = 55_000;
/**
 * One retry message may read the incident and make one change, each with its full wait
 * (functions/bridge.ts, `workerTiming`: 2 x 55 s + 5 s), then write the record and the next
 * message. 150 s leaves half a minute for that; the queue's visibility is 6 x this (900 s).
 */
const RETRY_TIMEOUT = Duration.seconds(150);

/**
 * Retry event source mapping batch. The retry handler works on a batch's records concurrently
 * (each bounded by the same session time), so a batch of five ends within the timeout; a bigger
 * batch would only wait for the shared ESET budget.
 */
const RETRY_BATCH_SIZE = 5;

/**
 * Ticket resolved -> webhook -> ESET incident closed. See README.md ("Deploy"), docs/operations.md
 * and docs/architecture.md. Settings come from CDK context (infra/constructs/settings.ts).
 */
export class EsetCloseBridgeStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    const settings = readSettings(this.node);
    const functionsDir = `${ROOT}functions`;

    // Both secrets start with generated placeholders so no real value is ever in a template;
    // the operator sets the real ones with `aws secretsmanager put-secret-value`.
    const esetCredentials = new secretsmanager.Secret(this, 'EsetCredentials', {
      description: 'ESET Connect API user as {"username","password"}; set the real values after deploy.',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'REPLACE_WITH_ESET_API_USER' }),
        generateStringKey: 'password',
        excludePunctuation: true,
        passwordLength: 32,
      },
    });
    const webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description:
        'Webhook secret shared with the ticketing systems: whsec_... (Standard Webhooks), or a JSON ' +
        'object of per-route secrets {"/":"whsec_...","/jira":"...","/servicenow":"..."}.',
      generateSecretString: { excludePunctuation: true, passwordLength: 32 },
    });
    // One credentials secret per further ESET tenant (esetTenants), each an API user of its own.
    const tenantSecrets = Object.keys(settings.esetTenants).map((name, i) => ({
      name,
      secret: new secretsmanager.Secret(this, `EsetCredentialsTenant${i + 1}`, {
        description: `ESET Connect API user of tenant ${name} as {"username","password"}; set the real values after deploy.`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: 'REPLACE_WITH_ESET_API_USER' }),
          generateStringKey: 'password',
          excludePunctuation: true,
          passwordLength: 32,
        },
      }),
    }));
    for (const secret of [esetCredentials, webhookSecret, ...tenantSecrets.map((t) => t.secret)]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The value is issued by a third party (the ESET PROTECT API user, the ticketing system ' +
          'webhook secret) and must be changed there first; Secrets Manager rotation cannot do that. ' +
          'Manual rotation is described in docs/operations.md (Rotate the secrets).',
      });
    }

    const queues = new RetryQueues(this, 'Queues', { consumerTimeout: RETRY_TIMEOUT });
    const state = new StateTable(this, 'State');

    const common = {
      ESET_REGION: settings.esetRegion,
      ESET_CREDENTIALS_SECRET_ARN: esetCredentials.secretArn,
      RETRY_QUEUE_URL: queues.queue.queueUrl,
      ...(tenantSecrets.length > 0
        ? {
            ESET_TENANTS: this.toJsonString(
              Object.fromEntries(
                tenantSecrets.map(({ name, secret }) => [
                  name,
                  { ...settings.esetTenants[name], credentialsSecretArn: secret.secretArn },
                ]),
              ),
            ),
          }
        : {}),
      RETRY_BASE_SECONDS: '5',
      RETRY_MAX_DELAY_SECONDS: '900',
      RETRY_MAX_AGE_SECONDS: '86400',
      // Past ESET's own 120 s (180 s on its error-code page) before reading after a lost answer.
      ESET_SETTLE_SECONDS: '190',
      STATE_TABLE: state.table.tableName,
      // The stale-message check and the takeover of an overdue wake-up follow the queue's settings.
      RETRY_QUEUE_VISIBILITY_SECONDS: String(VISIBILITY_TIMEOUT_FACTOR * RETRY_TIMEOUT.toSeconds()),
      RETRY_QUEUE_MAX_RECEIVES: String(MAX_RECEIVE_COUNT),
      RETRY_ESET_TIMEOUT_MS: String(RETRY_ESET_TIMEOUT_MS),
      // With the sync on, closes the bridge fails are left for it to tell the ticket.
      ...(settings.sync ? { SYNC_TARGET: settings.sync.target } : {}),
    };

    const receive = new BridgeFunction(this, 'Receive', {
      entry: `${functionsDir}/receive.ts`,
      description: 'Webhook: verify the signature, close the ESET incident or queue the close for retry.',
      timeout: RECEIVE_TIMEOUT,
      memorySize: 256,
      logRetention: settings.logRetention,
      tracing: settings.tracing,
      sourceMaps: settings.sourceMaps,
      // A flood of webhooks (or an attacker without the secret) cannot use up the account's
      // concurrency; beyond this the Function URL answers 429 and senders retry.
      reservedConcurrentExecutions: settings.receiveReservedConcurrency,
      environment: {
        ...common,
        WEBHOOK_SECRET_ARN: webhookSecret.secretArn,
        ESET_TIMEOUT_MS: String(RECEIVE_ESET_TIMEOUT_MS),
        DEAD_LETTER_QUEUE_URL: queues.deadLetterQueue.queueUrl,
        ...(settings.sendersConfig ? { SENDERS_CONFIG: settings.sendersConfig } : {}),
        // The Jira routes ignore the sync's own changes (its echoes).
        ...(settings.sync?.jira?.bridgeAccountId
          ? { JIRA_BRIDGE_ACCOUNT_ID: settings.sync.jira.bridgeAccountId }
          : {}),
      },
    });
    // A webhook's session may find earlier work of the incident refused for good: it parks it.
    receive.allow(
      'EnqueueRetries',
      ['sqs:SendMessage'],
      [queues.queue.queueArn, queues.deadLetterQueue.queueArn],
    );
    const esetSecretArns = [esetCredentials.secretArn, ...tenantSecrets.map((t) => t.secret.secretArn)];
    receive.allow('IncidentRecords', [...STATE_ACTIONS], [state.table.tableArn]);
    receive.allow('SharedEsetBudget', [...BUDGET_ACTIONS], [state.table.tableArn], BUDGET_KEYS_CONDITION);
    receive.allow(
      'ReadSecrets',
      ['secretsmanager:GetSecretValue'],
      [...esetSecretArns, webhookSecret.secretArn],
    );

    const retry = new BridgeFunction(this, 'Retry', {
      entry: `${functionsDir}/retry.ts`,
      description: 'Retry queue consumer: re-send closes to ESET with backoff, dead-letter with the reason.',
      timeout: RETRY_TIMEOUT,
      memorySize: 256,
      logRetention: settings.logRetention,
      tracing: settings.tracing,
      sourceMaps: settings.sourceMaps,
      environment: {
        ...common,
        DEAD_LETTER_QUEUE_URL: queues.deadLetterQueue.queueUrl,
      },
    });
    retry.allow('IncidentRecords', [...STATE_ACTIONS], [state.table.tableArn]);
    retry.allow('SharedEsetBudget', [...BUDGET_ACTIONS], [state.table.tableArn], BUDGET_KEYS_CONDITION);
    retry.allow(
      'ConsumeRetryQueue',
      ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      [queues.queue.queueArn],
    );
    retry.allow(
      'ReenqueueAndDeadLetter',
      ['sqs:SendMessage'],
      [queues.queue.queueArn, queues.deadLetterQueue.queueArn],
    );
    retry.allow('ReadEsetCredentials', ['secretsmanager:GetSecretValue'], esetSecretArns);

    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
    const retryMapping = retry.fn.addEventSourceMapping('RetryQueueMapping', {
      eventSourceArn: queues.queue.queueArn,
      batchSize: RETRY_BATCH_SIZE,
      // No batching window: at a few closes an hour there is nothing to gather, and a window would
      // only add its length to every retry's delay.
      maxBatchingWindow: Duration.seconds(0),
      reportBatchItemFailures: true,
      // ESET allows 10 requests per second per API user; every process takes its calls from the
      // budget shared through the state table, so more instances would only wait for it.
      maxConcurrency: settings.retryMaxConcurrency,
    });

    const url = receive.fn.addFunctionUrl({
      // The Standard Webhooks signature is the authentication; senders cannot sign SigV4.
      authType: lambda.FunctionUrlAuthType.NONE,
    });

    const monitoring = new Monitoring(this, 'Monitoring', {
      receiveFunction: receive.fn,
      retryFunction: retry.fn,
      retryQueue: queues.queue,
      deadLetterQueue: queues.deadLetterQueue,
      ...(settings.alarmEmail ? { alarmEmail: settings.alarmEmail } : {}),
      oldestRetryAgeAlarmSeconds: settings.oldestRetryAgeAlarmSeconds,
      rejectedAlarmThreshold: settings.rejectedAlarmThreshold,
      tenants: ['default', ...Object.keys(settings.esetTenants)],
    });

    if (settings.sync) {
      new TicketSync(this, 'Sync', {
        settings: settings.sync,
        entry: `${functionsDir}/sync.ts`,
        environment: common,
        stateTable: state.table,
        esetCredentials,
        logRetention: settings.logRetention,
        tracing: settings.tracing,
        sourceMaps: settings.sourceMaps,
        alarmTopic: monitoring.topic,
        dashboard: monitoring.dashboard,
      });
    }

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('WebhookUrl', url.url, 'Paste into the ticketing system as the webhook target (POST).');
    output('RetryQueueUrl', queues.queue.queueUrl, 'SQS retry queue.');
    output('RetryQueueArn', queues.queue.queueArn, 'SQS retry queue ARN (redrive destination).');
    output(
      'DeadLetterQueueUrl',
      queues.deadLetterQueue.queueUrl,
      'Dead-letter queue: parked close requests.',
    );
    output('DeadLetterQueueArn', queues.deadLetterQueue.queueArn, 'Dead-letter queue ARN (redrive source).');
    output('EsetCredentialsSecretName', esetCredentials.secretName, 'Set {"username","password"} here.');
    for (const [i, { name, secret }] of tenantSecrets.entries()) {
      output(
        `EsetCredentialsTenant${i + 1}SecretName`,
        secret.secretName,
        `Tenant ${name}: set {"username","password"} here.`,
      );
    }
    output(
      'WebhookSecretName',
      webhookSecret.secretName,
      'Set the webhook secret here: whsec_..., or per-route secrets as JSON (docs/senders/README.md).',
    );
    output(
      'StateTableName',
      state.table.tableName,
      'Incident records: what the tickets want, what ESET showed.',
    );
    output('DashboardName', monitoring.dashboard.dashboardName, 'CloudWatch dashboard.');
    output('AlarmTopicArn', monitoring.topic.topicArn, 'SNS topic the alarms notify.');
    output('ReceiveLogGroupName', receive.logGroup.logGroupName, 'Logs of the receive Lambda.');
    output('RetryLogGroupName', retry.logGroup.logGroupName, 'Logs of the retry Lambda.');
    output('RetryEventSourceMappingId', retryMapping.eventSourceMappingId, 'Pause/resume retries with this.');
  }
}
