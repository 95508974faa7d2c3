import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESET_REGIONS as FUNCTION_ESET_REGIONS } from '../../functions/eset/regions';
import {
  METRICS_NAMESPACE as METRIC_NAMESPACE,
  MetricName,
  SERVICE_NAME,
} from '../../functions/observability/metric-names';
import { addComplianceChecks } from '../../infra/constructs/compliance';
import { MAX_RECEIVE_COUNT } from '../../infra/constructs/retry-queues';
import { ESET_REGIONS, readSettings } from '../../infra/constructs/settings';
import { STATE_ACTIONS } from '../../infra/constructs/state-table';
import { EsetCloseBridgeStack } from '../../infra/stack';

// Skips esbuild: the template is what is under test, and a synth without bundling takes ~1 s.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json; Metadata?: Json; DeletionPolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string };

interface Synth {
  template: Template;
  resources: Record<string, Resource>;
  synthError: unknown;
  violations: string[];
}

/** Builds the app exactly as infra/app.ts does (cdk-nag attached) and synthesizes it once. */
function synthesize(context: Json = {}): Synth {
  const app = new App({ context: { ...NO_BUNDLING, ...context } });
  const stack = new EsetCloseBridgeStack(app, 'Bridge');
  const checks = addComplianceChecks(app);
  const violations = checks
    .validateScope(app)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  const template = Template.fromStack(stack);
  const resources = (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
  return { template, resources, synthError, violations };
}

function logicalIdsOf(resources: Record<string, Resource>, type: string): string[] {
  return Object.keys(resources).filter((id) => resources[id]?.Type === type);
}

function only<T>(values: T[], what: string): T {
  expect(values, what).toHaveLength(1);
  return values[0] as T;
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('EsetCloseBridgeStack (default context)', () => {
  let s: Synth;
  let ids: {
    receiveFn: string;
    retryFn: string;
    receiveRole: string;
    retryRole: string;
    queue: string;
    dlq: string;
    esetSecret: string;
    webhookSecret: string;
    topic: string;
    stateTable: string;
  };

  const res = (id: string): Resource => {
    const r = s.resources[id];
    if (!r) throw new Error(`no resource ${id}`);
    return r;
  };
  const fnByDescription = (prefix: string) =>
    only(
      logicalIdsOf(s.resources, 'AWS::Lambda::Function').filter((id) =>
        String(res(id).Properties.Description).startsWith(prefix),
      ),
      `function ${prefix}`,
    );
  const roleOf = (fnId: string) =>
    (res(fnId).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  /** Every statement that applies to a role: inline policies of the role and attached AWS::IAM::Policy. */
  const statementsOf = (roleId: string): Statement[] => {
    const inline = (
      (res(roleId).Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ?? []
    ).flatMap((p) => p.PolicyDocument.Statement);
    const attached = logicalIdsOf(s.resources, 'AWS::IAM::Policy')
      .map((id) => res(id).Properties)
      .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
    return [...inline, ...attached];
  };
  const actionsOf = (roleId: string) => new Set(statementsOf(roleId).flatMap((st) => asList(st.Action)));
  const resourcesFor = (roleId: string, action: string) =>
    statementsOf(roleId)
      .filter((st) => asList(st.Action).includes(action))
      .flatMap((st) => asList(st.Resource));
  const env = (fnId: string) => (res(fnId).Properties.Environment as { Variables: Json }).Variables;
  const alarmNamed = (suffix: string) =>
    only(
      logicalIdsOf(s.resources, 'AWS::CloudWatch::Alarm')
        .map((id) => res(id).Properties)
        .filter((p) => String(p.AlarmName).endsWith(`-${suffix}`)),
      `alarm ${suffix}`,
    );

  beforeAll(() => {
    s = synthesize();
    const queues = logicalIdsOf(s.resources, 'AWS::SQS::Queue');
    const queue = only(
      queues.filter((id) => res(id).Properties.RedrivePolicy),
      'queue with a redrive policy',
    );
    const secrets = logicalIdsOf(s.resources, 'AWS::SecretsManager::Secret');
    const receiveFn = fnByDescription('Webhook');
    const retryFn = fnByDescription('Retry queue consumer');
    ids = {
      receiveFn,
      retryFn,
      receiveRole: roleOf(receiveFn),
      retryRole: roleOf(retryFn),
      queue,
      dlq: only(
        queues.filter((id) => id !== queue),
        'dead-letter queue',
      ),
      esetSecret: only(
        secrets.filter((id) => id.startsWith('EsetCredentials')),
        'ESET secret',
      ),
      webhookSecret: only(
        secrets.filter((id) => id.startsWith('WebhookSecret')),
        'webhook secret',
      ),
      topic: only(logicalIdsOf(s.resources, 'AWS::SNS::Topic'), 'alarm topic'),
      stateTable: only(logicalIdsOf(s.resources, 'AWS::DynamoDB::Table'), 'state table'),
    };
  });

  describe('cdk-nag', () => {
    it('synthesizes with the AWS Solutions checks and no unacknowledged finding', () => {
      expect(s.violations).toEqual([]);
      expect(s.synthError).toBeUndefined();
    });

    it('acknowledges only the expected rules, each with a reason', () => {
      const acknowledged = Object.entries(s.resources).flatMap(([id, r]) => {
        const nag = r.Metadata?.cdk_nag as
          | { rules_to_suppress?: { id: string; reason: string }[] }
          | undefined;
        return (nag?.rules_to_suppress ?? []).map((rule) => ({ id, rule: rule.id, reason: rule.reason }));
      });
      expect(acknowledged.map((a) => `${a.rule} on ${a.id}`).sort()).toEqual(
        [
          `AwsSolutions-L1 on ${ids.receiveFn}`,
          `AwsSolutions-L1 on ${ids.retryFn}`,
          `AwsSolutions-SMG4 on ${ids.esetSecret}`,
          `AwsSolutions-SMG4 on ${ids.webhookSecret}`,
        ].sort(),
      );
      for (const a of acknowledged) expect(a.reason.length, a.rule).toBeGreaterThan(60);
    });

    it('fails the synth on a finding nobody acknowledged', () => {
      const app = new App({ context: NO_BUNDLING });
      const stack = new Stack(app, 'Bare');
      new secretsmanager.Secret(stack, 'NotRotated');
      addComplianceChecks(app);
      expect(() => app.synth()).toThrow(/AwsSolutions-SMG4/);
    });
  });

  describe('functions', () => {
    it('run Node.js 22 on arm64 with sized memory, the receiver under the senders, the retry Lambda past ESET', () => {
      for (const [fn, timeout] of [
        [ids.receiveFn, 10],
        [ids.retryFn, 150],
      ] as const) {
        const p = res(fn).Properties;
        expect(p.Runtime).toBe('nodejs22.x');
        expect(p.Architectures).toEqual(['arm64']);
        expect(p.MemorySize).toBe(256);
        expect(p.Timeout).toBe(timeout);
        expect(p.Handler).toBe('index.handler');
      }
      // The receive Lambda's ESET budget leaves time to enqueue and answer within its own timeout.
      expect(Number(env(ids.receiveFn).ESET_TIMEOUT_MS)).toBeLessThan(10_000);
      // ESET answers 202 + response-id only after 30 s (older pages: 50 s): the retry path waits longer,
      // and a message's read plus change, each with that wait, fit the retry Lambda's timeout.
      const call = Number(env(ids.retryFn).RETRY_ESET_TIMEOUT_MS);
      expect(call).toBeGreaterThan(50_000);
      expect(2 * call + 5_000).toBeLessThan(Number(res(ids.retryFn).Properties.Timeout) * 1000);
    });

    it('reserve concurrency for the webhook receiver only', () => {
      expect(res(ids.receiveFn).Properties.ReservedConcurrentExecutions).toBe(20);
      expect(res(ids.retryFn).Properties.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('log JSON to their own log group with 90 days retention, kept on stack deletion', () => {
      const groups = logicalIdsOf(s.resources, 'AWS::Logs::LogGroup');
      expect(groups).toHaveLength(2);
      for (const fn of [ids.receiveFn, ids.retryFn]) {
        const logging = res(fn).Properties.LoggingConfig as Json & { LogGroup: { Ref: string } };
        expect(logging).toMatchObject({
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          SystemLogLevel: 'INFO',
        });
        expect(groups).toContain(logging.LogGroup.Ref);
        expect(res(logging.LogGroup.Ref).Properties.RetentionInDays).toBe(90);
        expect(res(logging.LogGroup.Ref).DeletionPolicy).toBe('Retain');
      }
    });

    it('are configured through the environment the code reads', () => {
      const common = {
        ESET_REGION: 'eu',
        ESET_CREDENTIALS_SECRET_ARN: { Ref: ids.esetSecret },
        RETRY_QUEUE_URL: { Ref: ids.queue },
        RETRY_BASE_SECONDS: '5',
        RETRY_MAX_DELAY_SECONDS: '900',
        RETRY_MAX_AGE_SECONDS: '86400',
        ESET_SETTLE_SECONDS: '190',
        STATE_TABLE: { Ref: ids.stateTable },
        RETRY_QUEUE_VISIBILITY_SECONDS: '900',
        RETRY_QUEUE_MAX_RECEIVES: '5',
        RETRY_ESET_TIMEOUT_MS: '55000',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // No source maps by default: the bridge never prints a stack trace, and they cost every cold start.
        NODE_OPTIONS: '--max-semi-space-size=4',
      };
      expect(env(ids.receiveFn)).toEqual({
        ...common,
        WEBHOOK_SECRET_ARN: { Ref: ids.webhookSecret },
        ESET_TIMEOUT_MS: '8000',
        DEAD_LETTER_QUEUE_URL: { Ref: ids.dlq },
      });
      expect(env(ids.retryFn)).toEqual({
        ...common,
        DEAD_LETTER_QUEUE_URL: { Ref: ids.dlq },
      });
    });

    it('expose the receiver through a Function URL without IAM auth (the signature authenticates)', () => {
      const url = only(logicalIdsOf(s.resources, 'AWS::Lambda::Url'), 'function URL');
      expect(res(url).Properties).toMatchObject({
        AuthType: 'NONE',
        TargetFunctionArn: { 'Fn::GetAtt': [ids.receiveFn, 'Arn'] },
      });
    });
  });

  describe('queues', () => {
    it('encrypt both queues with SQS-managed keys', () => {
      expect(res(ids.queue).Properties.SqsManagedSseEnabled).toBe(true);
      expect(res(ids.dlq).Properties.SqsManagedSseEnabled).toBe(true);
    });

    it('redrive to the DLQ after a few crashed receives of one attempt', () => {
      expect(res(ids.queue).Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
        maxReceiveCount: MAX_RECEIVE_COUNT,
      });
      expect(MAX_RECEIVE_COUNT).toBe(5);
    });

    it('keep dead letters 14 days and keep the DLQ on stack deletion', () => {
      expect(res(ids.dlq).Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      expect(res(ids.dlq).DeletionPolicy).toBe('Retain');
    });

    it('hide a received message at least six times the retry Lambda timeout', () => {
      const visibility = res(ids.queue).Properties.VisibilityTimeout as number;
      const timeout = res(ids.retryFn).Properties.Timeout as number;
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    });

    it('refuse any request without TLS', () => {
      for (const q of [ids.queue, ids.dlq]) {
        const policy = only(
          logicalIdsOf(s.resources, 'AWS::SQS::QueuePolicy').filter((id) =>
            (res(id).Properties.Queues as { Ref: string }[]).some((r) => r.Ref === q),
          ),
          `policy of ${q}`,
        );
        expect(
          (res(policy).Properties.PolicyDocument as { Statement: Statement[] }).Statement,
        ).toContainEqual({
          Effect: 'Deny',
          Action: 'sqs:*',
          Principal: { AWS: '*' },
          Resource: { 'Fn::GetAtt': [q, 'Arn'] },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        });
      }
    });
  });

  describe('event source mapping', () => {
    it('feeds the retry queue to the retry Lambda with partial batch failures', () => {
      const mapping = only(logicalIdsOf(s.resources, 'AWS::Lambda::EventSourceMapping'), 'mapping');
      expect(res(mapping).Properties).toEqual({
        EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        FunctionName: { Ref: ids.retryFn },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 5,
        MaximumBatchingWindowInSeconds: 0,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });

    it('lets both Lambdas take their ESET calls from the budget shared through the state table, and only that', () => {
      for (const role of [ids.receiveRole, ids.retryRole]) {
        const statement = statementsOf(role).find((st) => st.Sid === 'SharedEsetBudget');
        expect(statement).toMatchObject({
          Action: 'dynamodb:UpdateItem',
          Resource: { 'Fn::GetAtt': [ids.stateTable, 'Arn'] },
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget#*'] } },
        });
      }
      // No process paces itself alone any more: there is no per-process rate to add up.
      expect(env(ids.receiveFn).ESET_MAX_RPS).toBeUndefined();
    });
  });

  describe('IAM', () => {
    it('gives the receiver exactly: own logs, send to the retry queue, read both secrets, incident records', () => {
      expect([...actionsOf(ids.receiveRole)].sort()).toEqual(
        [
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'secretsmanager:GetSecretValue',
          'sqs:SendMessage',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ].sort(),
      );
      expect(resourcesFor(ids.receiveRole, 'sqs:SendMessage')).toEqual([
        { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
      ]);
      expect(resourcesFor(ids.receiveRole, 'secretsmanager:GetSecretValue')).toEqual([
        { Ref: ids.esetSecret },
        { Ref: ids.webhookSecret },
      ]);
    });

    it('never lets the receiver read, delete or hide queue messages', () => {
      const actions = actionsOf(ids.receiveRole);
      for (const absent of [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:PurgeQueue',
      ]) {
        expect(actions.has(absent), absent).toBe(false);
      }
      // The DLQ only to send to (parking refused work), never to read.
      for (const st of statementsOf(ids.receiveRole).filter((st) => JSON.stringify(st).includes(ids.dlq))) {
        expect(st.Action).toEqual('sqs:SendMessage');
      }
    });

    it('gives the retry Lambda exactly: own logs, consume and re-enqueue, dead-letter, read the ESET secret, incident records', () => {
      expect([...actionsOf(ids.retryRole)].sort()).toEqual(
        [
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'secretsmanager:GetSecretValue',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:SendMessage',
        ].sort(),
      );
      for (const consume of [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ]) {
        expect(resourcesFor(ids.retryRole, consume), consume).toEqual([{ 'Fn::GetAtt': [ids.queue, 'Arn'] }]);
      }
      expect(resourcesFor(ids.retryRole, 'sqs:SendMessage')).toEqual([
        { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
      ]);
      expect(resourcesFor(ids.retryRole, 'secretsmanager:GetSecretValue')).toEqual([{ Ref: ids.esetSecret }]);
    });

    it.each([
      ['receiver', 'receiveRole'],
      ['retry Lambda', 'retryRole'],
    ] as const)(
      'lets the %s get and put incident records, and update budget items, on the state table only',
      (_name, role) => {
        for (const action of STATE_ACTIONS) {
          expect(resourcesFor(ids[role], action), action).toEqual([
            { 'Fn::GetAtt': [ids.stateTable, 'Arn'] },
          ]);
        }
        const actions = actionsOf(ids[role]);
        // UpdateItem is granted for the budget items only (the SharedEsetBudget statement).
        expect(resourcesFor(ids[role], 'dynamodb:UpdateItem')).toEqual([
          { 'Fn::GetAtt': [ids.stateTable, 'Arn'] },
        ]);
        for (const absent of [
          'dynamodb:DeleteItem',
          'dynamodb:Scan',
          'dynamodb:Query',
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:DescribeTable',
          'dynamodb:DeleteTable',
          'dynamodb:UpdateTable',
          'dynamodb:PartiQLSelect',
          'dynamodb:*',
        ]) {
          expect(actions.has(absent), absent).toBe(false);
        }
      },
    );

    it('never lets the retry Lambda read the webhook secret', () => {
      expect(JSON.stringify(statementsOf(ids.retryRole))).not.toContain(ids.webhookSecret);
    });

    it('scopes each function to its own log group', () => {
      for (const [role, fn] of [
        [ids.receiveRole, ids.receiveFn],
        [ids.retryRole, ids.retryFn],
      ] as const) {
        const group = (res(fn).Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(resourcesFor(role, 'logs:PutLogEvents')).toEqual([{ 'Fn::GetAtt': [group, 'Arn'] }]);
      }
    });

    it('uses no managed policies, no wildcard action and no wildcard resource anywhere', () => {
      for (const role of logicalIdsOf(s.resources, 'AWS::IAM::Role')) {
        expect(res(role).Properties.ManagedPolicyArns, role).toBeUndefined();
      }
      const statements = logicalIdsOf(s.resources, 'AWS::IAM::Policy').flatMap(
        (id) => (res(id).Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      );
      expect(statements.length).toBeGreaterThan(0);
      for (const st of statements) {
        for (const action of asList(st.Action)) expect(action, JSON.stringify(st)).not.toContain('*');
        expect(asList(st.Resource), JSON.stringify(st)).not.toContain('*');
      }
    });
  });

  describe('alarms', () => {
    const topicActions = () => [{ Ref: ids.topic }];

    it('has exactly the documented alarms, each notifying the topic on alarm and on recovery', () => {
      const alarms = logicalIdsOf(s.resources, 'AWS::CloudWatch::Alarm').map((id) => res(id).Properties);
      expect(alarms.map((a) => String(a.AlarmName).replace(/^Bridge-/, '')).sort()).toEqual(
        [
          'DeadLetterQueueNotEmpty',
          'RetryQueueOldestMessage',
          'ReceiveErrors',
          'ReceiveThrottles',
          'RetryErrors',
          'RetryThrottles',
          'EsetAuthFailure',
          'RejectedCloses',
          'EnqueueFailed',
          'StateStoreFailed',
          'EsetThrottled',
        ].sort(),
      );
      for (const a of alarms) {
        expect(a.AlarmActions, String(a.AlarmName)).toEqual(topicActions());
        expect(a.OKActions, String(a.AlarmName)).toEqual(topicActions());
        expect(a.TreatMissingData, String(a.AlarmName)).toBe('notBreaching');
        expect(String(a.AlarmDescription)).toContain('docs/operations.md');
      }
    });

    it('fires when anything is in the dead-letter queue', () => {
      expect(alarmNamed('DeadLetterQueueNotEmpty')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('fires when the oldest retry message is older than 30 minutes', () => {
      expect(alarmNamed('RetryQueueOldestMessage')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1800,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('fires on any error or throttle of either function', () => {
      for (const [name, fn] of [
        ['Receive', ids.receiveFn],
        ['Retry', ids.retryFn],
      ] as const) {
        for (const metric of ['Errors', 'Throttles']) {
          expect(alarmNamed(`${name}${metric}`)).toMatchObject({
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
            Statistic: 'Sum',
            Period: 300,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          });
        }
      }
    });

    it.each([
      ['EsetAuthFailure', MetricName.EsetAuthFailure, 1, 300],
      ['RejectedCloses', MetricName.Rejected, 5, 900],
      ['EnqueueFailed', MetricName.EnqueueFailed, 1, 300],
    ])('%s fires on the %s metric at %i per %i s', (alarmName, metricName, threshold, period) => {
      expect(alarmNamed(alarmName)).toMatchObject({
        Namespace: METRIC_NAMESPACE,
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Statistic: 'Sum',
        Period: period,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('publishes to a topic that only accepts TLS, with no subscription unless alarmEmail is set', () => {
      const policy = only(logicalIdsOf(s.resources, 'AWS::SNS::TopicPolicy'), 'topic policy');
      expect(res(policy).Properties.Topics).toEqual([{ Ref: ids.topic }]);
      expect((res(policy).Properties.PolicyDocument as { Statement: Statement[] }).Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 'sns:Publish',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
      expect(logicalIdsOf(s.resources, 'AWS::SNS::Subscription')).toEqual([]);
    });
  });

  describe('dashboard', () => {
    it('shows outcomes, ESET latency percentiles, queues, retries and Lambda health', () => {
      const dashboard = only(logicalIdsOf(s.resources, 'AWS::CloudWatch::Dashboard'), 'dashboard');
      const body = JSON.stringify(res(dashboard).Properties.DashboardBody);
      // Each metric by name, or (Requests, per route and result) inside the SEARCH expression.
      for (const name of Object.values(MetricName)) {
        expect(body.includes(`\\"${name}\\"`) || body.includes(`MetricName=\\\\\\"${name}`), name).toBe(true);
      }
      for (const widget of [
        'Requests by outcome',
        'ESET latency',
        'Queue depth',
        'Oldest message age',
        'Retries and failures',
        'Lambda errors and throttles',
      ]) {
        expect(body).toContain(widget);
      }
      expect(body).toContain('p50');
      expect(body).toContain('p99');
      expect(body).toContain('ApproximateAgeOfOldestMessage');
      expect(body).toContain('ApproximateNumberOfMessagesVisible');
      expect(body).toContain('Throttles');
    });
  });

  describe('state table', () => {
    it('is keyed by id, expires settled records by the expiration attribute, on demand, encrypted, with PITR', () => {
      expect(res(ids.stateTable).Properties).toEqual({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('is the table both Lambdas are told to use', () => {
      expect(env(ids.receiveFn).STATE_TABLE).toEqual({ Ref: ids.stateTable });
      expect(env(ids.retryFn).STATE_TABLE).toEqual({ Ref: ids.stateTable });
      expect(env(ids.receiveFn).SENDERS_CONFIG).toBeUndefined();
    });
  });

  describe('secrets', () => {
    it('start as generated placeholders, never a value in the template', () => {
      expect(res(ids.esetSecret).Properties.GenerateSecretString).toMatchObject({
        SecretStringTemplate: JSON.stringify({ username: 'REPLACE_WITH_ESET_API_USER' }),
        GenerateStringKey: 'password',
      });
      expect(res(ids.webhookSecret).Properties.GenerateSecretString).toBeDefined();
      for (const secret of [ids.esetSecret, ids.webhookSecret]) {
        expect(res(secret).Properties.SecretString).toBeUndefined();
      }
    });
  });

  describe('outputs', () => {
    it('gives the operator everything the runbooks need', () => {
      const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      const url = only(logicalIdsOf(s.resources, 'AWS::Lambda::Url'), 'function URL');
      expect(outputs.WebhookUrl?.Value).toEqual({ 'Fn::GetAtt': [url, 'FunctionUrl'] });
      expect(outputs.RetryQueueUrl?.Value).toEqual({ Ref: ids.queue });
      expect(outputs.RetryQueueArn?.Value).toEqual({ 'Fn::GetAtt': [ids.queue, 'Arn'] });
      expect(outputs.DeadLetterQueueUrl?.Value).toEqual({ Ref: ids.dlq });
      expect(outputs.DeadLetterQueueArn?.Value).toEqual({ 'Fn::GetAtt': [ids.dlq, 'Arn'] });
      expect(JSON.stringify(outputs.EsetCredentialsSecretName?.Value)).toContain(ids.esetSecret);
      expect(JSON.stringify(outputs.WebhookSecretName?.Value)).toContain(ids.webhookSecret);
      expect(outputs.DashboardName?.Value).toEqual({
        Ref: only(logicalIdsOf(s.resources, 'AWS::CloudWatch::Dashboard'), 'dashboard'),
      });
      expect(outputs.AlarmTopicArn?.Value).toEqual({ Ref: ids.topic });
      expect(outputs.StateTableName?.Value).toEqual({ Ref: ids.stateTable });
      for (const name of ['ReceiveLogGroupName', 'RetryLogGroupName', 'RetryEventSourceMappingId']) {
        expect(outputs[name], name).toBeDefined();
      }
    });
  });
});

describe('EsetCloseBridgeStack (several ESET tenants)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthesize({
      esetTenants: { acme: { region: 'de' }, globex: { region: 'us', rateLimit: 5 } },
      sendersConfig: { routes: { '/acme': { adapter: 'canonical', tenant: 'acme' } } },
    });
  });

  it('gives each tenant a credentials secret of its own, passes them all in ESET_TENANTS, cdk-nag clean', () => {
    expect(s.violations).toEqual([]);
    expect(s.synthError).toBeUndefined();
    const tenantSecrets = logicalIdsOf(s.resources, 'AWS::SecretsManager::Secret').filter((id) =>
      id.startsWith('EsetCredentialsTenant'),
    );
    expect(tenantSecrets).toHaveLength(2);
    const fns = logicalIdsOf(s.resources, 'AWS::Lambda::Function').filter((id) =>
      JSON.stringify(s.resources[id]?.Properties ?? {}).includes('ESET_TENANTS'),
    );
    expect(fns).toHaveLength(2);
    for (const fn of fns) {
      const text = JSON.stringify(s.resources[fn]?.Properties.Environment);
      for (const secret of tenantSecrets) expect(text).toContain(secret);
      expect(text).toContain('\\"region\\":\\"de\\"');
      expect(text).toContain('\\"rateLimit\\":5');
    }
    // Both Lambdas may read every tenant's secret, nothing more.
    const policies = logicalIdsOf(s.resources, 'AWS::IAM::Policy').map((id) =>
      JSON.stringify(s.resources[id]?.Properties),
    );
    for (const secret of tenantSecrets) expect(policies.filter((p) => p.includes(secret))).toHaveLength(2);
  });

  it("shows each tenant's calls per second against ESET's limit on the dashboard", () => {
    const dashboard = only(logicalIdsOf(s.resources, 'AWS::CloudWatch::Dashboard'), 'dashboard');
    const body = JSON.stringify(s.resources[dashboard]?.Properties.DashboardBody);
    for (const tenant of ['default', 'acme', 'globex'])
      expect(body).toContain(`\\"tenant\\",\\"${tenant}\\"`);
    expect(body).toContain('calls per second per tenant');
    expect(body).toContain("ESET's limit");
  });
});

describe('EsetCloseBridgeStack (tracing, source maps, alarm e-mail, no reserved concurrency)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthesize({
      tracing: 'true',
      sourceMaps: 'true',
      alarmEmail: 'secops@example.com',
      receiveReservedConcurrency: 'none',
      esetRegion: 'us',
      logRetentionDays: '30',
    });
  });

  it('still passes cdk-nag, acknowledging the X-Ray wildcard resource on both roles', () => {
    expect(s.violations).toEqual([]);
    expect(s.synthError).toBeUndefined();
    const iam5 = Object.entries(s.resources).filter(([, r]) =>
      JSON.stringify(r.Metadata ?? {}).includes('AwsSolutions-IAM5[Resource::*]'),
    );
    expect(iam5.map(([, r]) => r.Type)).toEqual(['AWS::IAM::Policy', 'AWS::IAM::Policy']);
  });

  it('turns on active tracing and source maps, subscribes the e-mail and applies the context values', () => {
    const fns = Object.values(s.resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(fns).toHaveLength(2);
    for (const fn of fns) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      const vars = (fn.Properties.Environment as { Variables: Json }).Variables;
      expect(vars.ESET_REGION).toBe('us');
      expect(vars.NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=4');
    }
    const groups = Object.values(s.resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
    });
  });
});

describe('EsetCloseBridgeStack (sendersConfig)', () => {
  it('passes the checked sender routes to the receive Lambda as SENDERS_CONFIG', () => {
    const senders = {
      routes: { '/jira': { incident: [{ field: 'issue.fields.customfield_10050' }] }, '/thehive': {} },
    };
    const s = synthesize({ sendersConfig: senders });
    expect(s.violations).toEqual([]);
    const receive = Object.values(s.resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).startsWith('Webhook'),
    );
    if (!receive) throw new Error('no receive function');
    const variables = (receive.Properties.Environment as { Variables: Json }).Variables;
    expect(JSON.parse(String(variables.SENDERS_CONFIG))).toEqual(senders);
  });
});

describe('readSettings', () => {
  const settingsFrom = (context: Json) => readSettings(new App({ context }).node);

  it('takes sendersConfig as an object or a JSON string and refuses a bad one at synth time', () => {
    const json = '{"routes":{"/zendesk":{}}}';
    expect(settingsFrom({ sendersConfig: json }).sendersConfig).toBe(json);
    expect(settingsFrom({ sendersConfig: JSON.parse(json) }).sendersConfig).toBe(json);
    expect(() =>
      settingsFrom({ sendersConfig: { routes: { '/jira': { auth: { scheme: 'none' } } } } }),
    ).toThrow(/sendersConfig: SENDERS_CONFIG routes\.\/jira\.auth\.scheme/);
  });

  it('defaults to the EU region, no further tenant and 2 retry instances', () => {
    expect(settingsFrom({})).toMatchObject({
      esetRegion: 'eu',
      esetTenants: {},
      retryMaxConcurrency: 2,
      receiveReservedConcurrency: 20,
      tracing: false,
      sourceMaps: false,
    });
  });

  it('knows the same ESET regions as the Lambda code', () => {
    expect([...ESET_REGIONS]).toEqual([...FUNCTION_ESET_REGIONS]);
  });

  it('refuses an unknown ESET region', () => {
    expect(() => settingsFrom({ esetRegion: 'mars' })).toThrow(
      /esetRegion must be one of eu, de, us, ca, jpn/,
    );
  });

  it('takes further ESET tenants and refuses a bad one, or a route naming an unknown one, at synth time', () => {
    expect(settingsFrom({ esetTenants: '{"acme":{"region":"de","rateLimit":5}}' }).esetTenants).toEqual({
      acme: { region: 'de', rateLimit: 5 },
    });
    expect(() => settingsFrom({ esetTenants: { acme: { region: 'mars' } } })).toThrow(
      /esetTenants\.acme\.region must be one of/,
    );
    expect(() => settingsFrom({ esetTenants: { acme: { region: 'eu', rateLimit: 20 } } })).toThrow(
      /esetTenants\.acme\.rateLimit must be a whole number from 1 to 10/,
    );
    expect(() =>
      settingsFrom({
        esetTenants: { acme: { region: 'eu' } },
        sendersConfig: { routes: { '/jira': { tenant: 'globex' } } },
      }),
    ).toThrow(/sendersConfig routes\.\/jira\.tenant: unknown tenant globex/);
  });

  it('refuses a maximum concurrency below the SQS event source minimum of 2', () => {
    expect(() => settingsFrom({ retryMaxConcurrency: 1 })).toThrow(
      /retryMaxConcurrency must be a whole number from 2/,
    );
  });

  it('names every problem at once', () => {
    expect(() =>
      settingsFrom({
        esetRegion: 'x',
        logRetentionDays: '13',
        tracing: 'yes',
        sourceMaps: 'on',
        alarmEmail: 'nope',
      }),
    ).toThrow(/esetRegion.*alarmEmail.*logRetentionDays.*tracing.*sourceMaps must be true or false/);
  });
});
