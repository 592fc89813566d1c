import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The example app exactly as a fresh clone runs it: `npx cdk synth` through cdk.json, with the pinned
 * CLI, no AWS credentials, no context lookups and the network unreachable. cdk-nag runs as a
 * Validations plugin inside that synth and would fail it on any unacknowledged finding.
 */

const repo = join(__dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'secure-mcp-example-'));
let template: { Resources: Record<string, { Type: string; Properties: Record<string, any> }>; Outputs: Record<string, unknown> };

function offlineEnvironment(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')));
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', AWS_CONFIG_FILE: join(out, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(out, 'none') };
}

beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('aws-cdk/bin/cdk'), 'synth', '--quiet', '--output', out], { cwd: repo, env: offlineEnvironment(), stdio: 'pipe' });
  template = JSON.parse(readFileSync(join(out, 'SecureMcpExample.template.json'), 'utf8'));
}, 180_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

describe('the example app (bin/)', () => {
  it('synthesizes offline with the pinned CLI, with nothing to look up', () => {
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { missing?: unknown[]; artifacts: Record<string, { environment?: string }> };
    expect(manifest.missing ?? []).toEqual([]);
    expect(manifest.artifacts.SecureMcpExample.environment).toBe('aws://unknown-account/unknown-region');
    expect(Object.keys(template.Outputs).sort()).toEqual(['AlarmTopicArn', 'Issuer', 'MachineClientSecretArn', 'McpUrl', 'UserPoolId']);
  });

  it('signs users in with the Cognito user pool: an app client whose only callback is the issuer /callback, its secret in Secrets Manager', () => {
    const [[clientId, client]] = ofType('AWS::Cognito::UserPoolClient');
    const [[apiId]] = ofType('AWS::ApiGateway::RestApi');
    expect(client.Properties).toMatchObject({ GenerateSecret: true, AllowedOAuthFlows: ['code'], AllowedOAuthScopes: ['openid', 'email', 'profile'] });
    expect(JSON.stringify(client.Properties.CallbackURLs)).toBe(
      JSON.stringify([{ 'Fn::Join': ['', ['https://', { Ref: apiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/prod/callback']] }]),
    );
    const [[secretId, secret]] = ofType('AWS::SecretsManager::Secret');
    expect(secret.Properties.SecretString).toEqual({ 'Fn::GetAtt': [clientId, 'ClientSecret'] });
    const authorize = ofType('AWS::Lambda::Function').find(([, fn]) => fn.Properties.Environment?.Variables?.UPSTREAM_ISSUER)![1];
    const variables = authorize.Properties.Environment.Variables;
    expect(variables.UPSTREAM_CLIENT_ID).toEqual({ Ref: clientId });
    expect(variables.UPSTREAM_CLIENT_SECRET_ARN).toEqual({ Ref: secretId });
    const [[poolId, pool]] = ofType('AWS::Cognito::UserPool');
    expect(variables.UPSTREAM_ISSUER).toEqual({ 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: poolId }]] });
    expect(pool.Properties.MfaConfiguration).toBe('ON');
    expect(ofType('AWS::Cognito::UserPoolDomain')).toHaveLength(1);
  });

  it('restricts mcp:admin to the Cognito admins group and protects the example MCP function with the guard environment', () => {
    const example = ofType('AWS::Lambda::Function').find(([id]) => id.startsWith('ExampleMcpFunction'))![1];
    const model = JSON.parse(example.Properties.Environment.Variables.SCOPE_MODEL);
    expect(model.entitlements).toEqual([{ claim: 'cognito:groups', value: 'admins', scopes: ['mcp:admin'] }]);
    expect(model.toolScopes).toEqual({ admin_stats: ['mcp:admin'] });
    expect(example.Properties.Environment.Variables.ISSUER).toBeDefined();
    expect(example.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
  });
});
