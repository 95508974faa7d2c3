import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Secrets Manager stand-in on 127.0.0.1 speaking the service's JSON protocol for the one call
 * the bridge makes (`GetSecretValue`, `x-amz-target: secretsmanager.GetSecretValue`), so the real
 * SDK client behind Powertools Parameters talks to it through `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
export interface SecretsManagerStandIn {
  endpoint: string;
  /** Secret values by ARN or name. */
  secrets: Map<string, string>;
  /** While true, every call answers 500 InternalServiceError (the service is down). */
  down: boolean;
  calls: number;
  close(): Promise<void>;
}

export async function startSecretsManager(): Promise<SecretsManagerStandIn> {
  const state = { secrets: new Map<string, string>(), down: false, calls: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.calls += 1;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (state.down) {
        send(500, { __type: 'InternalServiceError', message: 'An error occurred on the server side.' });
        return;
      }
      if (req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        send(400, { __type: 'InvalidRequestException', message: 'unsupported operation' });
        return;
      }
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        SecretId?: string;
      };
      const value = SecretId === undefined ? undefined : state.secrets.get(SecretId);
      if (value === undefined) {
        send(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      send(200, {
        ARN: SecretId,
        Name: SecretId?.split(':').at(-1),
        SecretString: value,
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
