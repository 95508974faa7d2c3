import { App } from 'aws-cdk-lib';
import { addComplianceChecks } from './constructs/compliance';
import { EsetCloseBridgeStack } from './stack';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'EsetCloseBridge';
new EsetCloseBridgeStack(app, stackName, {
  description: 'ESET close bridge: closes ESET Inspect incidents when tickets are resolved.',
});
addComplianceChecks(app);
