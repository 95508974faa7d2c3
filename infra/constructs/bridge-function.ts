import { basename, dirname } from 'node:path';
import { AssetHashType, DockerImage, type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE as METRIC_NAMESPACE,
  SERVICE_NAME,
} from '../../functions/observability/metric-names';
import { bundleLambda, lambdaNodeOptions } from '../bundle';

export interface BridgeFunctionProps {
  /** Absolute path of the handler file (exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly tracing: boolean;
  /** `--enable-source-maps` in NODE_OPTIONS (the `sourceMaps` setting). */
  readonly sourceMaps?: boolean;
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One bridge Lambda: Node.js 22 on arm64, bundled by the local esbuild (infra/bundle.ts: ESM with
 * code splitting, the AWS SDK v3 clients inside but loaded only where the code needs them),
 * its own log group with retention, JSON logs, and a role that starts with nothing but
 * "write to my own log group". Callers add exactly the statements the code needs with
 * {@link BridgeFunction.allow}.
 */
export class BridgeFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    super(scope, id);

    // Explicit log group: retention is ours, not "never expire", and it survives `cdk destroy`
    // so the history of what happened to a close is still there after a teardown.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // An own role instead of the default one with the AWSLambdaBasicExecutionRole managed
    // policy: that policy allows logs:* on every log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(dirname(props.entry), {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Bundled here by the local esbuild (infra/bundle.ts); no Docker involved.
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
          // Part of the bundling cache key: without it both functions, sharing a source folder,
          // would get the first one's bundle.
          command: ['bundle', basename(props.entry)],
          local: {
            tryBundle(outputDir: string) {
              bundleLambda(props.entry, outputDir);
              return true;
            },
          },
        },
      }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      // INFO keeps the platform.report line of every invocation: its status says "timeout".
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: lambdaNodeOptions(props.sourceMaps ?? false),
        ...props.environment,
      },
    });

    // Acknowledged on the function resource itself, not on its URL, permissions or mappings.
    // https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
    Validations.of(this.fn.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime this project is built and tested for (README.md) and is in AWS ' +
        'standard support; moving to a newer Node.js runtime is a deliberate, tested upgrade.',
    });
    if (props.tracing) {
      Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Added by Lambda active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not ' +
          'support resource-level permissions, so their resource must be "*".',
      });
    }
  }

  /** Adds one least-privilege statement (explicit actions, explicit resources) to the role. */
  allow(sid: string, actions: string[], resources: string[], conditions?: Record<string, unknown>): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({ sid, actions, resources, ...(conditions ? { conditions } : {}) }),
    );
  }
}
