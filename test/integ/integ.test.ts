import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeAssetHashes } from '../../lib';
import { EXCHANGES } from './exchanges';
import { buildIntegApp } from './integ.secure-mcp-server';

/**
 * The integration test app, offline: synthesized here and compared with the committed
 * snapshot (asset hashes and integ-tests' per-synth `salt` normalized), so a change to what would be
 * deployed and asserted is seen in review. Deploying it needs an account (README, "Integration test").
 */

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

const { app, stack } = buildIntegApp(new App());
const assembly = app.synth();
const testCase = assembly.getStackByName(stack.stackName).template as Template;
const manifest = JSON.parse(readFileSync(join(assembly.directory, 'integ.json'), 'utf8'));
const assertions = assembly.getStackByName(manifest.testCases['SecureMcpServer/DefaultTest'].assertionStackName).template as Template;
const httpCalls = Object.entries(assertions.Resources).filter(([, resource]) => resource.Type.startsWith('Custom::DeployAssert@HttpCall'));

/** integ-tests stamps every call with Date.now(), so the custom resource runs on every deployment. */
function withoutSalt(template: Template): Template {
  const copy = JSON.parse(JSON.stringify(template)) as Template;
  for (const resource of Object.values(copy.Resources)) if (resource.Properties?.salt !== undefined) resource.Properties.salt = '[SALT]';
  return copy;
}

it('matches the committed snapshot (test-case stack and assertion stack)', () => {
  expect(normalizeAssetHashes({ testCase, assertions: withoutSalt(assertions) })).toMatchSnapshot();
});

it('deploys the example stack as the test case, with the manifest integ-runner reads', () => {
  expect(manifest.testCases['SecureMcpServer/DefaultTest']).toMatchObject({ stacks: ['SecureMcpServerInteg'], cdkCommandOptions: { destroy: { args: { force: true } } } });
  expect(Object.values(testCase.Resources).filter((resource) => resource.Type === 'AWS::ApiGateway::RestApi')).toHaveLength(1);
  expect(Object.values(testCase.Resources).filter((resource) => resource.Type === 'AWS::Cognito::UserPool')).toHaveLength(1);
  // Not the example's domain prefix, which a deployed example in the same Region already holds.
  const [domain] = Object.values(testCase.Resources).filter((resource) => resource.Type === 'AWS::Cognito::UserPoolDomain');
  expect(domain.Properties.Domain).toEqual({ 'Fn::Join': ['', ['secure-mcp-integ-', { Ref: 'AWS::AccountId' }]] });
});

it('makes one HTTPS call per exchange; each asserted one carries its expectation, the chained ones read earlier responses', () => {
  expect(httpCalls).toHaveLength(EXCHANGES.length);
  const expected = httpCalls.filter(([, call]) => call.Properties.expected !== undefined);
  expect(expected).toHaveLength(EXCHANGES.filter((exchange) => exchange.expect).length);
  const text = JSON.stringify(expected.map(([, call]) => call.Properties.expected));
  for (const fragment of ['\\"status\\":401', '\\"status\\":403', 'insufficient_scope', '\\"status\\":201', '\\"status\\":204', 'resource_metadata']) expect(text).toContain(fragment);
  const reads = httpCalls.flatMap(([, call]) => JSON.stringify(call.Properties.parameters).match(/"apiCallResponse\.body\.[a-z_]+"/g) ?? []);
  expect(reads.sort()).toEqual(['"apiCallResponse.body.access_token"']);
  // The machine client's secret comes from Secrets Manager (an AwsApiCall), never from the template.
  const secretReads = Object.values(assertions.Resources).filter((resource) => resource.Type.startsWith('Custom::DeployAssert@SdkCallSecretsManager'));
  expect(secretReads).toHaveLength(1);
  // A call read from must return its flattened response; a call asserted on must not (integ-tests compares the unflattened one).
  for (const [, call] of httpCalls) expect([call.Properties.expected !== undefined, call.Properties.flattenResponse]).not.toEqual([true, 'true']);
});
