import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SyncMetricName } from '../../functions/observability/metric-names';
import { addComplianceChecks } from '../../infra/constructs/compliance';
import { readSettings } from '../../infra/constructs/settings';
import { EsetCloseBridgeStack } from '../../infra/stack';

/** The ESET-to-ticket sync in the stack (`-c syncTarget=...`): schedule, secret, IAM, alarms, dashboard. */
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const JIRA = {
  syncTarget: 'jira',
  jiraBaseUrl: 'https://example.atlassian.net',
  jiraProjectKey: 'SEC',
  jiraBridgeAccountId: '712020:2c9f6a14-3e8b-4d5f-9a61-0c7b8e2d4f30',
};

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json; Metadata?: Json };
type Statement = { Action: string | string[]; Resource: unknown };

interface Synth {
  resources: Record<string, Resource>;
  outputs: Record<string, { Value: unknown }>;
  violations: string[];
  synthError: unknown;
}

/** The app as infra/app.ts builds it; `nag: false` leaves cdk-nag out (it runs on the Jira variant). */
function synthesize(context: Json, opts: { nag?: boolean } = {}): Synth {
  const app = new App({ context: { ...NO_BUNDLING, ...context } });
  const stack = new EsetCloseBridgeStack(app, 'Bridge');
  const checks = opts.nag === false ? undefined : addComplianceChecks(app);
  const violations = (checks?.validateScope(app).violations ?? []).flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  const json = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, Resource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  return { resources: json.Resources, outputs: json.Outputs, violations, synthError };
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

function helpers(s: Synth) {
  const ids = (type: string) => Object.keys(s.resources).filter((id) => s.resources[id]?.Type === type);
  const res = (id: string) => s.resources[id] as Resource;
  const fn = (prefix: string) => {
    const found = ids('AWS::Lambda::Function').filter((id) =>
      String(res(id).Properties.Description).startsWith(prefix),
    );
    expect(found, prefix).toHaveLength(1);
    return found[0] as string;
  };
  const env = (id: string) => (res(id).Properties.Environment as { Variables: Json }).Variables;
  const role = (fnId: string) => (res(fnId).Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const statements = (roleId: string): Statement[] =>
    ids('AWS::IAM::Policy')
      .map((id) => res(id).Properties)
      .filter((p) => (p.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
  const actions = (roleId: string) => new Set(statements(roleId).flatMap((st) => asList(st.Action)));
  const resourcesFor = (roleId: string, action: string) =>
    statements(roleId)
      .filter((st) => asList(st.Action).includes(action))
      .flatMap((st) => asList(st.Resource));
  const alarm = (suffix: string) => {
    const found = ids('AWS::CloudWatch::Alarm')
      .map((id) => res(id).Properties)
      .filter((p) => String(p.AlarmName) === `Bridge-${suffix}`);
    expect(found, suffix).toHaveLength(1);
    return found[0] as Json;
  };
  const secret = (prefix: string) => {
    const found = ids('AWS::SecretsManager::Secret').filter((id) => id.startsWith(prefix));
    expect(found, prefix).toHaveLength(1);
    return found[0] as string;
  };
  return { ids, res, fn, env, role, statements, actions, resourcesFor, alarm, secret };
}

describe('EsetCloseBridgeStack with the sync to Jira', () => {
  let s: Synth;
  let h: ReturnType<typeof helpers>;
  let syncFn: string;

  beforeAll(() => {
    s = synthesize(JIRA);
    h = helpers(s);
    syncFn = h.fn('ESET-to-ticket sync');
  });

  it('passes cdk-nag, acknowledging only the new function runtime and the Jira secret, with reasons', () => {
    expect(s.violations).toEqual([]);
    expect(s.synthError).toBeUndefined();
    const acknowledged = Object.entries(s.resources).flatMap(([id, r]) =>
      (
        (r.Metadata?.cdk_nag as { rules_to_suppress?: { id: string; reason: string }[] } | undefined)
          ?.rules_to_suppress ?? []
      ).map((rule) => ({ id, rule: rule.id, reason: rule.reason })),
    );
    const syncSecret = h.secret('SyncJiraCredentials');
    expect(
      acknowledged
        .filter((a) => a.id === syncFn || a.id === syncSecret)
        .map((a) => a.rule)
        .sort(),
    ).toEqual(['AwsSolutions-L1', 'AwsSolutions-SMG4']);
    for (const a of acknowledged) expect(a.reason.length, a.rule).toBeGreaterThan(60);
  });

  it('runs the sync every minute from an EventBridge schedule, never retried or queued up', () => {
    const rule = h.ids('AWS::Events::Rule');
    expect(rule).toHaveLength(1);
    const props = h.res(rule[0] as string).Properties;
    expect(props.ScheduleExpression).toBe('rate(1 minute)');
    expect(props.State).toBe('ENABLED');
    expect(props.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [syncFn, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      }),
    ]);
    const permissions = h.ids('AWS::Lambda::Permission').map((id) => h.res(id).Properties);
    expect(permissions).toContainEqual(
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [syncFn, 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [rule[0], 'Arn'] },
      }),
    );
    const invoke = h.ids('AWS::Lambda::EventInvokeConfig').map((id) => h.res(id).Properties);
    expect(invoke).toEqual([
      expect.objectContaining({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }),
    ]);
  });

  it('runs one sync at a time, bounded, with the settings the code reads', () => {
    const p = h.res(syncFn).Properties;
    expect(p).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 300, Runtime: 'nodejs22.x' });
    const stateTable = h.ids('AWS::DynamoDB::Table')[0];
    expect(h.env(syncFn)).toMatchObject({
      SYNC_TARGET: 'jira',
      SYNC_INTERVAL_SECONDS: '60',
      SYNC_MIN_SEVERITY: 'MEDIUM',
      JIRA_BASE_URL: 'https://example.atlassian.net',
      JIRA_PROJECT_KEY: 'SEC',
      JIRA_ISSUE_TYPE: 'Task',
      JIRA_BRIDGE_ACCOUNT_ID: JIRA.jiraBridgeAccountId,
      JIRA_CREDENTIALS_SECRET_ARN: { Ref: h.secret('SyncJiraCredentials') },
      STATE_TABLE: { Ref: stateTable },
      ESET_CREDENTIALS_SECRET_ARN: { Ref: h.secret('EsetCredentials') },
    });
    expect(h.env(syncFn).JIRA_EMAIL).toBeUndefined();
    expect(h.env(syncFn).JIRA_API_TOKEN).toBeUndefined();
  });

  it('tells the receive and retry Lambdas the sync is on, and the Jira route whose changes are its own', () => {
    const receive = h.fn('Webhook');
    const retry = h.fn('Retry queue consumer');
    expect(h.env(receive)).toMatchObject({
      SYNC_TARGET: 'jira',
      JIRA_BRIDGE_ACCOUNT_ID: JIRA.jiraBridgeAccountId,
    });
    expect(h.env(retry)).toMatchObject({ SYNC_TARGET: 'jira' });
    expect(h.env(retry).JIRA_BRIDGE_ACCOUNT_ID).toBeUndefined();
  });

  it('gives the sync exactly: own logs, get and put items of the state table, the budget items, read its two secrets', () => {
    const role = h.role(syncFn);
    expect([...h.actions(role)].sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    const stateTable = h.ids('AWS::DynamoDB::Table')[0];
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) {
      expect(h.resourcesFor(role, action)).toEqual([{ 'Fn::GetAtt': [stateTable, 'Arn'] }]);
    }
    // UpdateItem only on the shared rate-budget items, never on an incident record.
    const budget = h.statements(role).filter((st) => asList(st.Action).includes('dynamodb:UpdateItem'));
    expect(budget).toHaveLength(1);
    expect(JSON.stringify(budget[0])).toContain('"dynamodb:LeadingKeys":["budget#*"]');
    expect(asList(budget[0]?.Action)).not.toContain('dynamodb:PutItem');
    expect(h.resourcesFor(role, 'secretsmanager:GetSecretValue')).toEqual([
      { Ref: h.secret('EsetCredentials') },
      { Ref: h.secret('SyncJiraCredentials') },
    ]);
    const all = JSON.stringify(h.ids('AWS::IAM::Policy').map((id) => h.res(id).Properties));
    expect(JSON.stringify(h.resourcesFor(role, 'secretsmanager:GetSecretValue'))).not.toContain(
      'WebhookSecret',
    );
    for (const absent of ['sqs:', 'dynamodb:Scan', 'dynamodb:Query', 'dynamodb:DeleteItem']) {
      expect(
        [...h.actions(role)].some((a) => a.startsWith(absent)),
        absent,
      ).toBe(false);
    }
    expect(all).not.toContain('"*"');
  });

  it('starts the Jira credentials as a placeholder {"email","apiToken"}, never a value in the template', () => {
    const secret = h.res(h.secret('SyncJiraCredentials')).Properties;
    expect(secret.GenerateSecretString).toMatchObject({
      SecretStringTemplate: JSON.stringify({ email: 'REPLACE_WITH_JIRA_API_USER_EMAIL' }),
      GenerateStringKey: 'apiToken',
    });
    expect(secret.SecretString).toBeUndefined();
  });

  it('alarms on sync errors or news given up, and on a lag past two intervals (or no run at all)', () => {
    const topic = [{ Ref: h.ids('AWS::SNS::Topic')[0] }];
    const errors = h.alarm('SyncErrors');
    expect(errors).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: topic,
      OKActions: topic,
    });
    const metrics = errors.Metrics as { Expression?: string; MetricStat?: { Metric: Json } }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('FILL(errors, 0) + FILL(gaveUp, 0)');
    expect(JSON.stringify(metrics)).toContain('"Errors"');
    expect(JSON.stringify(metrics)).toContain(SyncMetricName.SyncGaveUp);
    expect(h.alarm('SyncLag')).toMatchObject({
      MetricName: SyncMetricName.SyncLagSeconds,
      Namespace: 'EsetCloseBridge',
      Statistic: 'Maximum',
      Period: 120,
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: topic,
    });
    for (const name of ['SyncErrors', 'SyncLag']) {
      expect(String(h.alarm(name).AlarmDescription)).toContain('README.md (Operate)');
    }
  });

  it('shows the lag, tickets, news, ESET calls and the sync Lambda on the dashboard', () => {
    const dashboard = h.ids('AWS::CloudWatch::Dashboard')[0] as string;
    const body = JSON.stringify(h.res(dashboard).Properties.DashboardBody);
    for (const name of Object.values(SyncMetricName)) expect(body, name).toContain(`\\"${name}\\"`);
    for (const widget of [
      'Sync lag',
      'Sync: tickets, news and ESET calls',
      'Sync Lambda errors',
      'Sync alarms',
    ]) {
      expect(body).toContain(widget);
    }
  });

  it('outputs the secret to set, the log group and the rule that pauses the sync', () => {
    expect(JSON.stringify(s.outputs.SyncSecretName?.Value)).toContain(h.secret('SyncJiraCredentials'));
    expect(s.outputs.SyncScheduleRuleName?.Value).toEqual({ Ref: h.ids('AWS::Events::Rule')[0] });
    expect(s.outputs.SyncLogGroupName).toBeDefined();
  });
});

describe('EsetCloseBridgeStack with the sync to a webhook URL, every 5 minutes', () => {
  it('signs with its own secret, sends to the URL, and alarms after ten minutes of lag', () => {
    const s = synthesize(
      {
        syncTarget: 'webhook',
        syncWebhookUrl: 'https://soar.example.com/eset',
        syncIntervalSeconds: '300',
        syncMinSeverity: 'high',
      },
      { nag: false },
    );
    const h = helpers(s);
    expect(s.synthError).toBeUndefined();
    const syncFn = h.fn('ESET-to-ticket sync');
    const secret = h.secret('SyncWebhookSigningSecret');
    expect(h.env(syncFn)).toMatchObject({
      SYNC_TARGET: 'webhook',
      SYNC_WEBHOOK_URL: 'https://soar.example.com/eset',
      SYNC_WEBHOOK_SECRET_ARN: { Ref: secret },
      SYNC_INTERVAL_SECONDS: '300',
      SYNC_MIN_SEVERITY: 'HIGH',
    });
    expect(Object.keys(h.env(syncFn)).filter((k) => k.startsWith('JIRA_'))).toEqual([]);
    expect(h.res(h.ids('AWS::Events::Rule')[0] as string).Properties.ScheduleExpression).toBe(
      'rate(5 minutes)',
    );
    expect(h.alarm('SyncLag')).toMatchObject({ Threshold: 600, Period: 600 });
    expect(h.resourcesFor(h.role(syncFn), 'secretsmanager:GetSecretValue')).toContainEqual({ Ref: secret });
  });
});

describe('readSettings: the sync', () => {
  const settingsFrom = (context: Json) => readSettings(new App({ context }).node);

  it('reads the Jira settings with their defaults', () => {
    expect(settingsFrom(JIRA).sync).toEqual({
      target: 'jira',
      intervalSeconds: 60,
      minSeverity: 'MEDIUM',
      jira: {
        baseUrl: 'https://example.atlassian.net',
        projectKey: 'SEC',
        issueType: 'Task',
        bridgeAccountId: JIRA.jiraBridgeAccountId,
      },
    });
  });

  it('names every problem at once', () => {
    expect(() =>
      settingsFrom({
        syncTarget: 'jira',
        syncIntervalSeconds: '90',
        syncMinSeverity: 'urgent',
        jiraBaseUrl: 'http://jira.internal',
      }),
    ).toThrow(
      /syncIntervalSeconds must be whole minutes.*syncMinSeverity.*jiraBaseUrl must be.*jiraProjectKey is required/,
    );
    expect(() => settingsFrom({ syncTarget: 'servicenow' })).toThrow(/syncTarget must be jira or webhook/);
    expect(() => settingsFrom({ syncTarget: 'webhook' })).toThrow(/syncWebhookUrl is required/);
  });
});
