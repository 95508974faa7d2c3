import { type BridgeOverrides, createBridge } from '../bridge';
import { type Clock, systemClock } from '../clock/clock';
import type { Config } from '../config/config';
import { jiraCredentialsResolver, secretStringResolver } from '../config/secrets';
import type { JiraCredentials } from '../config/sync-config';
import { type SyncActivity, SyncEngine, type SyncReport } from './engine';
import { StoredNotices } from './notices';
import { DynamoDocStore } from './state';
import type { SyncTarget } from './target';

export interface SyncOverrides extends BridgeOverrides {
  /** Incidents per list page (ESET allows at most 1000): the benchmark shows paging with less. */
  pageSize?: number;
  onActivity?: (activity: SyncActivity) => void;
}

export interface Sync {
  run(opts: { deadline: number }): Promise<SyncReport>;
  clock: Clock;
}

/**
 * The sync's composition root: the ESET client and incident store as the other Lambdas build them
 * (createBridge), the sync's own items in the state table, and the target, loaded on the first run
 * (`await import()`: a Jira deployment never loads the webhook target, and the reverse). Secrets
 * are read on every run and the target rebuilt when they changed (a rotated API token is used
 * within minutes).
 */
export function createSync(config: Config, overrides: SyncOverrides = {}): Sync {
  const sync = config.sync;
  const table = config.stateTable;
  if (!sync || !table) throw new Error('createSync needs SYNC_TARGET and STATE_TABLE');
  const clock = overrides.clock ?? systemClock;
  const bridge = createBridge(config, overrides);
  const docs = new DynamoDocStore({
    table: table.table,
    ...(table.endpoint ? { endpoint: table.endpoint } : {}),
    ...(overrides.dynamo ? { client: overrides.dynamo } : {}),
    now: clock.now,
  });
  const notices = new StoredNotices(docs, clock.now);
  const incidentUrl = sync.incidentUrl ?? `${config.esetApiUrl}/v2/incidents/{uuid}`;
  const outbound = {
    clock,
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    ...(overrides.random ? { random: overrides.random } : {}),
  };

  let built: { secret: string; engine: SyncEngine } | undefined;
  const engineFor = (target: SyncTarget) =>
    new SyncEngine({
      eset: bridge.eset,
      incidents: bridge.store,
      docs,
      notices,
      target,
      clock,
      tenant: config.tenant,
      minSeverity: sync.minSeverity,
      esetTimeoutMs: config.retryEsetTimeoutMs,
      ...(overrides.newId ? { newId: overrides.newId } : {}),
      ...(overrides.pageSize ? { pageSize: overrides.pageSize } : {}),
      ...(overrides.onActivity ? { onActivity: overrides.onActivity } : {}),
    });

  const jiraCredentials = sync.jira ? jiraCredentialsResolver(sync.jira.credentials) : undefined;
  const webhookSecret = sync.webhook ? secretStringResolver(sync.webhook.secret) : undefined;

  const engine = async (): Promise<SyncEngine> => {
    if (sync.target === 'jira') {
      const jira = sync.jira;
      if (!jira || !jiraCredentials) throw new Error('SYNC_TARGET=jira needs the Jira settings');
      const credentials: JiraCredentials = await jiraCredentials();
      const key = `${credentials.email}\n${credentials.apiToken}`;
      if (built?.secret !== key) {
        const [{ JiraClient }, { JiraTarget }] = await Promise.all([
          import('../jira/client'),
          import('./jira-target'),
        ]);
        const client = new JiraClient({ baseUrl: jira.baseUrl, ...credentials, ...outbound });
        const target = new JiraTarget({
          client,
          clock,
          projectKey: jira.projectKey,
          issueType: jira.issueType,
          incidentUrl,
          ...(jira.bridgeAccountId ? { expectedAccountId: jira.bridgeAccountId } : {}),
        });
        built = { secret: key, engine: engineFor(target) };
      }
      return built.engine;
    }
    const hook = sync.webhook;
    if (!hook || !webhookSecret) throw new Error('SYNC_TARGET=webhook needs SYNC_WEBHOOK_URL and its secret');
    const secret = await webhookSecret();
    if (built?.secret !== secret) {
      const [{ WebhookTarget }, { WebhookSyncTarget }] = await Promise.all([
        import('./webhook-target'),
        import('./webhook-sync-target'),
      ]);
      const webhook = new WebhookTarget({ url: hook.url, secret, ...outbound });
      const target = new WebhookSyncTarget({ webhook, clock, tenant: config.tenant, incidentUrl });
      built = { secret, engine: engineFor(target) };
    }
    return built.engine;
  };

  return {
    clock,
    run: async (opts) => (await engine()).run(opts),
  };
}
