import { ExpectedResult, IApiCall, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Aws } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { SecureMcpExampleStack } from '../../bin/example-stack';
import { EXCHANGES, Urls } from './exchanges';

/**
 * The deployed-behaviour suite: deploys the example (bin/example-stack.ts) and asserts over HTTPS what
 * no synth can show (exchanges.ts): the 401 challenge, PRM and AS metadata, registration, the 403
 * insufficient_scope challenge mapped from the authorizer context, CORS preflights, and WAF letting
 * loopback redirect URIs through. Run it with an AWS account (README, "Integration test"):
 *
 *   npm run integ
 *
 * Offline, `npm test` synthesizes this app and compares it with the committed snapshot (integ.test.ts).
 */
export function buildIntegApp(app: App = new App()): { app: App; stack: SecureMcpExampleStack; integ: IntegTest; calls: ReadonlyMap<string, IApiCall> } {
  const stack = new SecureMcpExampleStack(app, 'SecureMcpServerInteg');
  // Cognito domain prefixes are unique per Region: the example's own would collide with a deployed example.
  (stack.userPool.node.findChild('Domain').node.defaultChild as cognito.CfnUserPoolDomain).domain = `secure-mcp-integ-${Aws.ACCOUNT_ID}`;
  const integ = new IntegTest(app, 'SecureMcpServer', {
    testCases: [stack],
    // The example's tables, signing key and log groups go with the stack; its trail bucket and key are retained by design.
    cdkCommandOptions: { destroy: { args: { force: true } } },
    diffAssets: false,
  });
  // The example's machine client: its secret is read from Secrets Manager by the assertion provider.
  const [machine] = stack.mcp.machineClients;
  const secret = integ.assertions.awsApiCall('SecretsManager', 'getSecretValue', { SecretId: machine.secret.secretArn });
  const urls: Urls = {
    issuer: stack.mcp.issuer,
    mcpUrl: stack.mcp.mcpUrl,
    protectedResourceMetadataUrl: stack.mcp.protectedResourceMetadataUrl,
    machineClient: { clientId: machine.clientId, secret: secret.getAttString('SecretString') },
  };
  const calls = new Map<string, IApiCall>();
  for (const exchange of EXCHANGES) {
    const request = exchange.request(urls, (id, field) => {
      const source = calls.get(id);
      if (!source) throw new Error(`${exchange.id} reads ${field} from ${id}, which is not an earlier exchange`);
      return source.getAttString(`body.${field}`);
    });
    const call = integ.assertions.httpApiCall(request.url, { method: request.method ?? 'GET', headers: request.headers, body: request.body });
    const expected = exchange.expect?.(urls);
    if (expected) {
      call.expect(
        ExpectedResult.objectLike({
          status: expected.status,
          // node-fetch reports each header as a list of values, under its lower-case name.
          ...(expected.headers ? { headers: Object.fromEntries(Object.entries(expected.headers).map(([name, value]) => [name, [value]])) } : {}),
          ...(expected.body ? { body: expected.body } : {}),
        }),
      );
    }
    calls.set(exchange.id, call);
  }
  return { app, stack, integ, calls };
}

if (require.main === module) buildIntegApp().app.synth();
