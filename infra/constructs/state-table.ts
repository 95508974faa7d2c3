import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/**
 * What the Lambdas do with the state table: read an item, write it conditionally. Nothing more:
 * no Scan, no Query, no UpdateItem or DeleteItem (every change is a conditional PutItem of the
 * whole record at the revision it read).
 */
export const STATE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/**
 * The shared ESET rate budget (functions/pacing/shared-budget.ts) is one item per tenant, changed
 * by a conditional UpdateItem; the permission is limited to those items by their key's prefix.
 */
export const BUDGET_ACTIONS = ['dynamodb:UpdateItem'] as const;
export const BUDGET_KEYS_CONDITION = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['budget#*'] } };

/**
 * The bridge's state (STATE_TABLE): one item per incident (functions/incidents/), partition key
 * `id`, `expiration` the TTL attribute, set only once nothing is outstanding for the incident.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      // A few writes per ticket event: on-demand costs nothing when idle and never throttles a burst.
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // The records hold what the tickets still want of ESET: recoverable to any second of the last 35 days.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Without the bridge the records mean nothing; parked work stays in the (retained) DLQ.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
