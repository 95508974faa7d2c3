import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Registers cdk-nag's AWS Solutions pack as a synthesis validation plugin: any finding that is
 * not acknowledged with `Validations.of(construct).acknowledge({ id, reason })` fails the synth
 * (and the deploy). Used by infra/app.ts and by the infra tests, so both check the same way.
 */
export function addComplianceChecks(app: App): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(checks);
  return checks;
}
