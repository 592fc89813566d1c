import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as jose from 'jose';
import { IdentityProvider, SecureMcpServer } from '../../lib';
import { ISSUER } from '../support/harness';
import { AuthorizeFixture, authorizationParams, locationQuery, runFlow, UserAgent } from '../support/authorize-fixture';

/**
 * The scope model the construct synthesizes for `IdentityProvider.cognito` with default
 * entitlements, run by the authorize and token handlers against an upstream whose ID tokens are shaped
 * as Cognito's: the groups in `cognito:groups`, no `groups` claim.
 */

/** The authorize function's `PROTECTED_RESOURCES` as synthesized: the one server at /mcp with its scope model. */
function synthesizedProtectedResources(): string {
  const app = new App();
  const stack = new Stack(app, 'CognitoStack');
  const userPool = new cognito.UserPool(stack, 'Users');
  userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'mcp-entitlements-test' } });
  const handler = new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = 1') });
  const mcp = new SecureMcpServer(stack, 'Mcp', { handler, identityProvider: IdentityProvider.cognito({ userPool }) });
  const authorize = stack.getLogicalId(mcp.authorizeFunction.node.defaultChild as lambda.CfnFunction);
  return Template.fromStack(stack).toJSON().Resources[authorize].Properties.Environment.Variables.PROTECTED_RESOURCES;
}

const fixture = new AuthorizeFixture();
const idTokens: jose.JWTPayload[] = [];

beforeAll(async () => {
  // Cognito's default scopes: no `groups` scope exists there, and none is needed.
  await fixture.start({ PROTECTED_RESOURCES: synthesizedProtectedResources(), UPSTREAM_SCOPES: 'openid email profile' }, { groupsClaim: 'cognito:groups' });
  fixture.idp.hooks.tokenResponse = (body) => {
    idTokens.push(jose.decodeJwt(String(body.id_token)));
    return body;
  };
}, 60_000);
afterAll(() => fixture.stop());

test.each([
  ['alice', ['admins'], 'mcp:admin mcp:tools'],
  ['bob', undefined, 'mcp:tools'],
])('with default entitlements, %s (cognito:groups %j) is granted %s', async (username, groups, granted) => {
  const client = await fixture.register();
  const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { scope: 'mcp:admin mcp:tools' });
  const { callback } = await runFlow(new UserAgent(fixture), query, username);
  const idToken = idTokens.at(-1)!;
  expect(idToken['cognito:groups']).toEqual(groups);
  expect(idToken.groups).toBeUndefined();

  const code = locationQuery(callback).get('code')!;
  const token = await fixture.redeem({ code, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId, resource: `${ISSUER}/mcp` });
  expect(token.status).toBe(200);
  expect(token.json.scope).toBe(granted);
});
