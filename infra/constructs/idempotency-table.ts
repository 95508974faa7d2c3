import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** What the receive Lambda does with an idempotency record, and nothing more (no Scan, no Query). */
export const IDEMPOTENCY_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/**
 * The Powertools Idempotency table (functions/idempotency/guard.ts): partition key `id`, the
 * record's expiry in `expiration` doubling as the TTL attribute, so DynamoDB deletes records after
 * the window at no cost. https://docs.aws.amazon.com/powertools/typescript/latest/features/idempotency/#dynamodb-table
 */
export class IdempotencyTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      // A few writes per close: on-demand costs nothing when idle and never throttles a burst.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Records live for the idempotency window only; nothing in them is worth keeping after a teardown.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.table.node.defaultChild as dynamodb.CfnTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'Point-in-time recovery would restore nothing of value: the table holds short-lived idempotency ' +
        'records that expire within the window (IDEMPOTENCY_TTL_SECONDS). Losing them only means a ' +
        'duplicate delivery inside the window reaches ESET again, which ESET answers "already closed".',
    });
  }
}
