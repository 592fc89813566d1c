import { readdirSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { insufficientScopeDenyContext, renderGatewayResponse, GatewayResponseDefinition } from '../../lib/authorizer-gateway';
import { assetHashSerializer } from '../../lib/testing';
import { PROTECTED_RESOURCE_METADATA_PATH } from '../../lib';
import { ROUTES } from '../../lib/routes';
import { TABLES, TTL_ATTRIBUTE } from '../../lib/tables';
import { AUDIT_ALARMS } from '../../lib/private/audit';
import {
  actionsOf,
  functionLogicalId,
  identityStatements,
  logicalIdOf,
  onlyLogicalId,
  PolicyStatementJson,
  render,
  resourcesOfType,
  roleOf,
  stageUrl,
  templateOf,
  UPSTREAM_ISSUER,
  UPSTREAM_SECRET_ARN,
} from '../support/stack';

// One synthesized stack with every default, shared by all assertions of this file (synth is the slow part).
const { template, stack, mcp, handler } = templateOf();
const json = template.toJSON();
const resources = json.Resources as Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
const apiId = logicalIdOf(stack, mcp.restApi);
const issuer = stageUrl(apiId);
const fn = (constructId: string) => functionLogicalId(stack, mcp, constructId);
const FUNCTIONS = ['Metadata', 'Register', 'Token', 'Authorize', 'Authorizer'] as const;

/** Resource logical id -> full path ('/register/{client_id}'), from PathPart and ParentId. */
function resourcePaths(): Map<string, string> {
  const apiResources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const pathOf = (logicalId: string): string => {
    const known = paths.get(logicalId);
    if (known) return known;
    const { ParentId, PathPart } = apiResources[logicalId].Properties;
    const parent = 'Ref' in ParentId ? pathOf(ParentId.Ref) : '';
    const path = `${parent}/${PathPart}`;
    paths.set(logicalId, path);
    return path;
  };
  Object.keys(apiResources).forEach(pathOf);
  return paths;
}

function methods(): { method: string; path: string; properties: Record<string, any>; logicalId: string }[] {
  const paths = resourcePaths();
  return Object.entries(resourcesOfType(template, 'AWS::ApiGateway::Method')).map(([logicalId, resource]) => {
    const resourceId = resource.Properties.ResourceId;
    return { method: resource.Properties.HttpMethod, path: 'Ref' in resourceId ? paths.get(resourceId.Ref)! : '/', properties: resource.Properties, logicalId };
  });
}

function environmentOf(constructId: string): Record<string, string> {
  const variables = resources[fn(constructId)].Properties.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, render(value)]));
}

describe('the routes manifest becomes the REST API', () => {
  it('creates exactly one method per manifest route, with the manifest handler behind it', () => {
    const built = methods().filter((m) => m.method !== 'OPTIONS' && m.method !== 'ANY');
    expect(built.map((m) => `${m.method} ${m.path}`).sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of ROUTES) {
      const method = built.find((m) => m.method === route.method && m.path === route.path)!;
      const target = route.handler === 'mcp' ? logicalIdOf(stack, handler) : fn(route.handler[0].toUpperCase() + route.handler.slice(1));
      expect(JSON.stringify(method.properties.Integration.Uri)).toContain(`"${target}"`);
      expect(method.properties.Integration.Type).toBe('AWS_PROXY');
    }
  });

  it('answers unknown methods on every manifest path with a 405 MOCK that names the allowed methods', () => {
    for (const path of new Set(ROUTES.map((route) => route.path))) {
      const any = methods().find((m) => m.method === 'ANY' && m.path === path);
      expect(any).toBeDefined();
      expect(any!.properties.Integration.Type).toBe('MOCK');
      expect(any!.properties.AuthorizationType).toBe('NONE');
      const response = any!.properties.Integration.IntegrationResponses[0];
      expect(response.StatusCode).toBe('405');
      const allowed = response.ResponseParameters['method.response.header.Allow'];
      for (const route of ROUTES.filter((r) => r.path === path)) {
        if (route.probe) expect(allowed).not.toContain(route.method);
        else expect(allowed).toContain(route.method);
      }
    }
    // DELETE /mcp in particular: Streamable HTTP without sessions. GET and HEAD exist only as
    // discovery probes behind the authorizer; with a token the MCP function answers 405 itself.
    expect(methods().some((m) => m.path === '/mcp' && m.method === 'DELETE')).toBe(false);
    expect(methods().find((m) => m.path === '/mcp' && m.method === 'ANY')!.properties.Integration.IntegrationResponses[0].ResponseParameters['method.response.header.Allow']).toBe(
      "'POST, OPTIONS'",
    );
  });

  it('answers CORS preflights on metadata and /mcp without any authorizer, allowing the MCP headers and exposing WWW-Authenticate', () => {
    const preflightPaths = new Set(ROUTES.filter((route) => route.cors || route.authorization === 'bearer').map((route) => route.path));
    const options = methods().filter((m) => m.method === 'OPTIONS');
    expect(new Set(options.map((m) => m.path))).toEqual(preflightPaths);
    for (const option of options) {
      expect(option.properties.AuthorizationType).toBe('NONE');
      expect(option.properties.AuthorizerId).toBeUndefined();
      const headers = option.properties.Integration.IntegrationResponses[0].ResponseParameters;
      expect(headers['method.response.header.Access-Control-Allow-Headers']).toEqual(expect.stringContaining('MCP-Protocol-Version'));
      for (const header of ['Mcp-Method', 'Mcp-Name', 'Authorization']) expect(headers['method.response.header.Access-Control-Allow-Headers']).toContain(header);
      expect(headers['method.response.header.Access-Control-Expose-Headers']).toContain('WWW-Authenticate');
    }
  });
});

describe('INFRA-02 KMS signing key', () => {
  const keys = resourcesOfType(template, 'AWS::KMS::Key');
  const signingKeyId = logicalIdOf(stack, mcp.signingKey);
  const tokenRole = roleOf(template, fn('Token'));

  it('is an asymmetric RSA_2048 SIGN_VERIFY key, retained', () => {
    expect(keys[signingKeyId].Properties).toMatchObject({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', PendingWindowInDays: 30 });
    expect(resources[signingKeyId].DeletionPolicy).toBe('Retain');
  });

  it('lets only the token role sign, with one algorithm, in every IAM policy and in the key policy', () => {
    const signers = identityStatements(template).filter(({ statement }) => actionsOf(statement).some((action) => ['kms:Sign', 'kms:*', '*'].includes(action)));
    expect(signers).toHaveLength(1);
    expect(signers[0].roles).toEqual([tokenRole]);
    expect(signers[0].statement.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256' } });
    const keyStatements = keys[signingKeyId].Properties.KeyPolicy.Statement as PolicyStatementJson[];
    const keySigners = keyStatements.filter((statement) => statement.Effect === 'Allow' && actionsOf(statement).some((action) => ['kms:Sign', 'kms:*', 'kms:Sign*', '*'].includes(action)));
    expect(keySigners).toHaveLength(1);
    expect(keySigners[0].Condition).toEqual({
      StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256' },
      ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [tokenRole, 'Arn'] } },
    });
  });

  it('REV-05 leaves no path to Sign for anyone but the token role: no grants for principals, Sign denied to every other principal, key policy changes separate', () => {
    const statements = keys[signingKeyId].Properties.KeyPolicy.Statement as PolicyStatementJson[];
    // An action pattern of a statement, as IAM matches it.
    const matches = (pattern: string, action: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(action);
    const allowing = (action: string) => statements.filter((statement) => statement.Effect === 'Allow' && actionsOf(statement).some((pattern) => matches(pattern, action)));
    expect(allowing('kms:CreateGrant')).toEqual([]);
    expect(allowing('kms:PutKeyPolicy').map((statement) => statement.Sid)).toEqual(['KeyPolicyChanges']);
    expect(allowing('kms:Sign').map((statement) => statement.Sid)).toEqual(['TokenSigning']);
    const denies = Object.fromEntries(statements.filter((statement) => statement.Effect === 'Deny').map((statement) => [statement.Sid, statement]));
    // Grants only for AWS services acting for an AWS resource; and a grantee still meets the Sign deny below.
    expect(denies.DenyGrantsExceptForAwsServices).toMatchObject({
      Principal: { AWS: '*' },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    });
    expect(denies.SigningByTokenFunctionOnly).toMatchObject({
      Principal: { AWS: '*' },
      Action: 'kms:Sign',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [tokenRole, 'Arn'] } } },
    });
  });

  it('has no kms:* outside the administration statement of a key policy, and administration excludes Sign and GetPublicKey', () => {
    for (const { statement } of identityStatements(template)) expect(actionsOf(statement)).not.toContain('kms:*');
    const admin = (keys[signingKeyId].Properties.KeyPolicy.Statement as PolicyStatementJson[]).find((statement) => statement.Sid === 'KeyAdministration')!;
    for (const action of actionsOf(admin)) {
      expect(action).not.toMatch(/^kms:(\*|Sign|Verify|GetPublicKey|Get\*)$/);
    }
    for (const [logicalId, key] of Object.entries(keys)) {
      for (const statement of key.Properties.KeyPolicy.Statement as PolicyStatementJson[]) {
        if (actionsOf(statement).includes('kms:*')) {
          expect(logicalId).not.toBe(signingKeyId);
          expect(render(statement.Principal && (statement.Principal as { AWS: unknown }).AWS)).toMatch(/:root$/);
        }
      }
    }
  });

  it('gives the metadata function GetPublicKey only and the authorizer no KMS access at all', () => {
    const kmsActionsOf = (role: string) =>
      identityStatements(template)
        .filter(({ roles }) => roles.includes(role))
        .flatMap(({ statement }) => actionsOf(statement))
        .filter((action) => action.startsWith('kms:') || action === '*');
    expect(kmsActionsOf(roleOf(template, fn('Metadata')))).toEqual(['kms:GetPublicKey']);
    expect(kmsActionsOf(roleOf(template, fn('Authorizer')))).toEqual([]);
    expect(kmsActionsOf(roleOf(template, fn('Register')))).toEqual([]);
    expect(kmsActionsOf(roleOf(template, fn('Authorize')))).toEqual([]);
  });
});

describe('INFRA-03 DynamoDB tables', () => {
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');

  it('creates one on-demand table per definition with TTL, PITR, SSE, deletion protection and RETAIN', () => {
    expect(Object.keys(tables)).toHaveLength(TABLES.length);
    for (const definition of TABLES) {
      const logicalId = logicalIdOf(stack, mcp.tables[definition.name]);
      expect(tables[logicalId].Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: definition.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: definition.partitionKey, AttributeType: 'S' }],
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(resources[logicalId].DeletionPolicy).toBe('Retain');
    }
  });

  it('REV-13 the authorize function may UpdateItem a client only to remove its unused-registration expiry', () => {
    const authorizeRole = roleOf(template, fn('Authorize'));
    const updates = identityStatements(template).filter(
      ({ roles, statement }) => roles.includes(authorizeRole) && actionsOf(statement).includes('dynamodb:UpdateItem') && JSON.stringify(statement.Resource).includes(logicalIdOf(stack, mcp.clientsTable)),
    );
    expect(updates).toHaveLength(1);
    expect(actionsOf(updates[0].statement)).toEqual(['dynamodb:UpdateItem']);
    expect(updates[0].statement.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'expiresAt', 'ttl'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
    });
  });

  it('grants each function exactly the table actions it calls, on exactly those tables', () => {
    const table = (name: string) => logicalIdOf(stack, mcp.tables[name as keyof typeof mcp.tables]);
    const expected: Record<string, Record<string, string[]>> = {
      Token: {
        [table('clients')]: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
        [table('codes')]: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
        [table('grants')]: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      },
      Register: { [table('clients')]: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
      Authorize: {
        [table('clients')]: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        [table('codes')]: ['dynamodb:PutItem'],
        [table('pending')]: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        [table('consents')]: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      },
      Metadata: {},
      Authorizer: {},
    };
    for (const name of FUNCTIONS) {
      const granted: Record<string, Set<string>> = {};
      for (const { statement } of identityStatements(template).filter(({ roles }) => roles.includes(roleOf(template, fn(name))))) {
        const actions = actionsOf(statement).filter((action) => action.startsWith('dynamodb:') || action === '*');
        if (actions.length === 0) continue;
        for (const resource of [statement.Resource].flat() as unknown[]) {
          if (resource && typeof resource === 'object' && 'Ref' in resource && (resource as { Ref: string }).Ref === 'AWS::NoValue') continue;
          const target = render(resource).replace(/^\{(\w+)\.Arn\}$/, '$1');
          expect(Object.keys(tables)).toContain(target);
          granted[target] ??= new Set();
          actions.forEach((action) => granted[target].add(action));
        }
      }
      expect(Object.fromEntries(Object.entries(granted).map(([target, actions]) => [target, [...actions].sort()]))).toEqual(expected[name]);
    }
  });

  it('lets no handler scan or use dynamodb:*', () => {
    for (const { statement } of identityStatements(template)) {
      for (const action of actionsOf(statement)) expect(['dynamodb:*', 'dynamodb:Scan', 'dynamodb:Query', '*']).not.toContain(action);
    }
  });
});

describe('INFRA-04 API Gateway stage and methods', () => {
  const stageId = onlyLogicalId(template, 'AWS::ApiGateway::Stage');
  const stageProps = resources[stageId].Properties;

  it('logs access as JSON, including the authorizer context', () => {
    const format = JSON.parse(stageProps.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      principalId: '$context.authorizer.principalId',
      clientId: '$context.authorizer.client_id',
      scope: '$context.authorizer.scope',
      jti: '$context.authorizer.jti',
    });
    expect(JSON.stringify(format)).not.toMatch(/\$input|\$context\.(requestOverride|error\.message)|header|querystring/i);
    expect(render(stageProps.AccessLogSetting.DestinationArn)).toBe(`{${logicalIdOf(stack, mcp.accessLogGroup!)}.Arn}`);
  });

  it('enables execution logging without data tracing, caching nowhere, and throttles every method explicitly', () => {
    expect(stageProps.CacheClusterEnabled ?? false).toBe(false);
    const settings = stageProps.MethodSettings as Record<string, unknown>[];
    expect(settings).toContainEqual(expect.objectContaining({ ResourcePath: '/*', HttpMethod: '*', LoggingLevel: 'ERROR', DataTraceEnabled: false, CachingEnabled: false }));
    for (const setting of settings) {
      expect(setting).toMatchObject({ DataTraceEnabled: false, CachingEnabled: false, LoggingLevel: 'ERROR' });
      expect(setting.ThrottlingRateLimit).toEqual(expect.any(Number));
      expect(setting.ThrottlingBurstLimit).toEqual(expect.any(Number));
    }
    for (const route of ROUTES) {
      expect(settings).toContainEqual(expect.objectContaining({ ResourcePath: `/${route.path.replace(/\//g, '~1')}`, HttpMethod: route.method }));
    }
  });

  it('throttles POST /register below every other method', () => {
    const settings = stageProps.MethodSettings as { ResourcePath: string; HttpMethod: string; ThrottlingRateLimit: number; ThrottlingBurstLimit: number }[];
    const register = settings.find((s) => s.ResourcePath === '/~1register' && s.HttpMethod === 'POST')!;
    for (const other of settings.filter((s) => !s.ResourcePath.startsWith('/~1register'))) {
      expect(register.ThrottlingRateLimit).toBeLessThan(other.ThrottlingRateLimit);
      expect(register.ThrottlingBurstLimit).toBeLessThan(other.ThrottlingBurstLimit);
    }
  });

  it('validates requests on the token and registration endpoints', () => {
    const validators = resourcesOfType(template, 'AWS::ApiGateway::RequestValidator');
    const [validatorId] = Object.keys(validators);
    expect(validators[validatorId].Properties).toMatchObject({ ValidateRequestBody: true, ValidateRequestParameters: true });
    for (const path of ['/token', '/revoke', '/introspect', '/register']) {
      const method = methods().find((m) => m.method === 'POST' && m.path === path)!;
      expect(method.properties.RequestValidatorId).toEqual({ Ref: validatorId });
      expect(method.properties.RequestParameters).toEqual({ 'method.request.header.Content-Type': true });
    }
  });

  it('puts the Lambda authorizer on /mcp only (POST, and the HEAD/GET discovery probes), with caching off by default (TTL 0, within the token lifetime)', () => {
    const authorizerId = onlyLogicalId(template, 'AWS::ApiGateway::Authorizer');
    const authorized = methods().filter((m) => m.properties.AuthorizationType !== 'NONE');
    expect(authorized.map((m) => `${m.method} ${m.path}`).sort()).toEqual(['GET /mcp', 'HEAD /mcp', 'POST /mcp']);
    expect(authorized[0].properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
    const authorizer = resources[authorizerId].Properties;
    expect(authorizer.Type).toBe('REQUEST');
    expect(authorizer.AuthorizerResultTtlInSeconds).toBe(0);
    expect(authorizer.AuthorizerResultTtlInSeconds).toBeLessThanOrEqual(Number(environmentOf('Token').ACCESS_TOKEN_TTL_SECONDS));
    // No identity source: a request without a token still reaches the authorizer and is audited.
    expect(authorizer.IdentitySource).toBeUndefined();
  });

  it('exposes no Lambda function URL', () => {
    template.resourceCountIs('AWS::Lambda::Url', 0);
  });

  it('is a regional API with a single stage', () => {
    expect(resources[apiId].Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
    template.resourceCountIs('AWS::ApiGateway::Stage', 1);
  });
});

describe('INFRA-05 AWS WAF', () => {
  const aclId = onlyLogicalId(template, 'AWS::WAFv2::WebACL');
  const rules = resources[aclId].Properties.Rules as any[];

  it('associates a regional web ACL with the stage', () => {
    expect(resources[aclId].Properties.Scope).toBe('REGIONAL');
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
      WebACLArn: { 'Fn::GetAtt': [aclId, 'Arn'] },
    });
    const association = Object.values(resourcesOfType(template, 'AWS::WAFv2::WebACLAssociation'))[0];
    expect(render(association.Properties.ResourceArn)).toBe(`arn:{AWS::Partition}:apigateway:{AWS::Region}::/restapis/{${apiId}}/stages/{${onlyLogicalId(template, 'AWS::ApiGateway::Stage')}}`);
  });

  it.each([
    ['RegisterRateLimit', '/prod/register'],
    ['TokenRateLimit', '/prod/token'],
    ['AuthorizeRateLimit', '/prod/authorize'],
  ])('rate-limits %s per IP, scoped down to %s', (name, path) => {
    const rule = rules.find((r) => r.Name === name);
    const statement = rule.Statement.RateBasedStatement;
    expect(rule.Action).toEqual({ Block: {} });
    expect(statement.AggregateKeyType).toBe('IP');
    expect(statement.Limit).toBeGreaterThanOrEqual(10);
    expect(statement.EvaluationWindowSec).toBeGreaterThanOrEqual(60);
    expect(statement.EvaluationWindowSec).toBeLessThanOrEqual(300);
    expect(statement.ScopeDownStatement.ByteMatchStatement).toMatchObject({ SearchString: path, PositionalConstraint: 'STARTS_WITH', FieldToMatch: { UriPath: {} } });
  });

  it('limits registration hardest', () => {
    const limit = (name: string) => rules.find((r) => r.Name === name).Statement.RateBasedStatement.Limit;
    expect(limit('RegisterRateLimit')).toBeLessThan(limit('AuthorizeRateLimit'));
    expect(limit('RegisterRateLimit')).toBeLessThan(limit('TokenRateLimit'));
  });

  it('applies the AWS managed Common and KnownBadInputs rule groups', () => {
    const groups = rules.filter((r) => r.Statement.ManagedRuleGroupStatement).map((r) => r.Statement.ManagedRuleGroupStatement);
    expect(groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }),
        expect.objectContaining({ VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' }),
      ]),
    );
  });

  it('logs to an aws-waf-logs- log group with the Authorization and Cookie headers and the query string redacted', () => {
    const logging = Object.values(resourcesOfType(template, 'AWS::WAFv2::LoggingConfiguration'))[0].Properties;
    expect(logging.ResourceArn).toEqual({ 'Fn::GetAtt': [aclId, 'Arn'] });
    expect(logging.RedactedFields).toEqual(expect.arrayContaining([{ SingleHeader: { Name: 'authorization' } }, { SingleHeader: { Name: 'cookie' } }, { QueryString: {} }]));
    const logGroupId = logicalIdOf(stack, mcp.webAclLogGroup!);
    expect(render(resources[logGroupId].Properties.LogGroupName)).toMatch(/^aws-waf-logs-/);
    expect(render(logging.LogDestinationConfigs[0])).toMatch(new RegExp(`:log-group:\\{${logGroupId}\\}$`));
  });
});

describe('INFRA-06 CloudTrail', () => {
  const trailId = onlyLogicalId(template, 'AWS::CloudTrail::Trail');
  const trail = resources[trailId].Properties;

  it('validates log files, encrypts with KMS and delivers to CloudWatch Logs', () => {
    expect(trail.EnableLogFileValidation).toBe(true);
    expect(trail.KMSKeyId).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack, mcp.trailKey!), 'Arn'] });
    expect(trail.CloudWatchLogsLogGroupArn).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack, mcp.trailLogGroup!), 'Arn'] });
    expect(trail.IsLogging).toBe(true);
  });

  it('records every management event (KMS not excluded) and the DynamoDB data events of all five tables', () => {
    expect(trail.EventSelectors).toBeUndefined();
    const selectors = trail.AdvancedEventSelectors as { FieldSelectors: { Field: string; Equals?: unknown[]; NotEquals?: unknown[] }[] }[];
    const management = selectors.find((s) => s.FieldSelectors.some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Management')))!;
    expect(management.FieldSelectors).toEqual([{ Field: 'eventCategory', Equals: ['Management'] }]);
    const data = selectors.find((s) => s.FieldSelectors.some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Data')))!;
    expect(data.FieldSelectors).toContainEqual({ Field: 'resources.type', Equals: ['AWS::DynamoDB::Table'] });
    const arns = data.FieldSelectors.find((f) => f.Field === 'resources.ARN')!.Equals!.map(render).sort();
    expect(arns).toEqual(TABLES.map((definition) => `{${logicalIdOf(stack, mcp.tables[definition.name])}.Arn}`).sort());
  });

  it('writes to a versioned, public-access-blocked, SSL-only bucket with server access logs', () => {
    const bucketId = logicalIdOf(stack, mcp.trailBucket!);
    expect(trail.S3BucketName).toEqual({ Ref: bucketId });
    const bucket = resources[bucketId];
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(stack, mcp.trailAccessLogsBucket!) } },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('lets CloudTrail use the trail key only from this account', () => {
    const statements = resources[logicalIdOf(stack, mcp.trailKey!)].Properties.KeyPolicy.Statement as PolicyStatementJson[];
    const cloudTrail = statements.filter((s) => JSON.stringify(s.Principal).includes('cloudtrail.amazonaws.com'));
    expect(cloudTrail.flatMap(actionsOf).sort()).toEqual(['kms:DescribeKey', 'kms:GenerateDataKey*']);
    for (const statement of cloudTrail) expect(statement.Condition?.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(resources[logicalIdOf(stack, mcp.trailKey!)].Properties.EnableKeyRotation).toBe(true);
  });
});

describe('INFRA-07 gateway responses', () => {
  const responses = Object.values(resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties);
  const byType = (type: string) => responses.find((r) => r.ResponseType === type)!;
  /** A deployed gateway response as API Gateway would render it, with the intrinsics rendered. */
  const asDefinition = (type: 'UNAUTHORIZED' | 'ACCESS_DENIED'): GatewayResponseDefinition => {
    const properties = byType(type);
    const headers = Object.fromEntries(
      Object.entries(properties.ResponseParameters as Record<string, unknown>).map(([key, value]) => [key.replace('gatewayresponse.header.', ''), render(value)]),
    );
    return { type, statusCode: properties.StatusCode, responseHeaders: headers, templates: properties.ResponseTemplates };
  };

  it('answers UNAUTHORIZED with 401 and the resource_metadata challenge naming the default scopes', () => {
    const rendered = renderGatewayResponse(asDefinition('UNAUTHORIZED'));
    expect(rendered.statusCode).toBe(401);
    expect(rendered.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${issuer}${PROTECTED_RESOURCE_METADATA_PATH}", scope="mcp:tools"`);
    expect(rendered.headers['WWW-Authenticate']).not.toContain('error=');
    expect(rendered.headers['Access-Control-Expose-Headers']).toContain('WWW-Authenticate');
    expect(rendered.headers['Cache-Control']).toBe('no-store');
  });

  it('answers ACCESS_DENIED with 403 and the insufficient_scope challenge the authorizer computed for the request', () => {
    const resourceMetadataUrl = `${issuer}${PROTECTED_RESOURCE_METADATA_PATH}`;
    const rendered = renderGatewayResponse(asDefinition('ACCESS_DENIED'), insufficientScopeDenyContext(resourceMetadataUrl, ['mcp:admin']));
    expect(rendered.statusCode).toBe(403);
    expect(rendered.headers['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${resourceMetadataUrl}"`);
    expect(JSON.parse(rendered.body)).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:admin' });
    expect(rendered.headers['Access-Control-Expose-Headers']).toContain('WWW-Authenticate');
  });

  it('keeps DEFAULT_4XX and DEFAULT_5XX generic: their own status, no error message, no stack', () => {
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      const response = byType(type);
      expect(response.StatusCode).toBeUndefined();
      const body = response.ResponseTemplates['application/json'];
      expect(() => JSON.parse(body)).not.toThrow();
      expect(body).not.toMatch(/\$context\.error\.(message|messageString|validationErrorString)|\$input|stack/i);
    }
    expect(byType('MISSING_AUTHENTICATION_TOKEN').StatusCode).toBe('404');
    expect(byType('THROTTLED').StatusCode).toBe('429');
  });
});

describe('INFRA-08 Lambda functions', () => {
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');

  it('runs every construct function on nodejs24.x arm64 with explicit memory and timeout, from the prebuilt bundle', () => {
    for (const name of FUNCTIONS) {
      const properties = functions[fn(name)].Properties;
      expect(properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(properties.MemorySize).toEqual(expect.any(Number));
      expect(properties.Timeout).toBeLessThan(29);
      expect(properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    }
  });

  it('reserves concurrency for the token and register functions only', () => {
    expect(functions[fn('Token')].Properties.ReservedConcurrentExecutions).toBe(50);
    expect(functions[fn('Register')].Properties.ReservedConcurrentExecutions).toBe(5);
    for (const name of ['Metadata', 'Authorize', 'Authorizer']) expect(functions[fn(name)].Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('gives every function its own role and its own log group with retention', () => {
    const roles = FUNCTIONS.map((name) => roleOf(template, fn(name)));
    expect(new Set(roles).size).toBe(FUNCTIONS.length);
    for (const name of FUNCTIONS) {
      const logGroupRef = functions[fn(name)].Properties.LoggingConfig.LogGroup;
      const logGroupId = logGroupRef.Ref;
      expect(resources[logGroupId].Properties.RetentionInDays).toBe(365);
      expect(resources[logGroupId].DeletionPolicy).toBe('Retain');
      // The role may write to that log group and nothing else in CloudWatch Logs.
      const logStatements = identityStatements(template).filter(({ roles: attached, statement }) => attached.includes(roleOf(template, fn(name))) && actionsOf(statement).some((a) => a.startsWith('logs:')));
      expect(logStatements).toHaveLength(1);
      expect(render(logStatements[0].statement.Resource)).toBe(`{${logGroupId}.Arn}`);
    }
    for (const role of roles) expect(resources[role].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('sets exactly the documented environment on each function, and no secret values', () => {
    const names = (name: string) => Object.keys(environmentOf(name)).sort();
    expect(names('Metadata')).toEqual(['CIMD_ENABLED', 'ISSUER', 'PROTECTED_RESOURCES', 'SIGNING_ALGORITHM', 'SIGNING_KEY_ARN']);
    expect(names('Register')).toEqual(['CLIENTS_TABLE', 'ISSUER', 'PROTECTED_RESOURCES', 'UNUSED_CLIENT_TTL_SECONDS']);
    expect(names('Token')).toEqual([
      'ACCESS_TOKEN_TTL_SECONDS',
      'CIMD_ENABLED',
      'CLIENTS_TABLE',
      'CODES_TABLE',
      'GRANTS_TABLE',
      'ISSUER',
      'PROTECTED_RESOURCES',
      'REFRESH_TOKEN_IDLE_TTL_SECONDS',
      'REFRESH_TOKEN_TTL_SECONDS',
      'SIGNING_ALGORITHM',
      'SIGNING_KEY_ARN',
    ]);
    expect(names('Authorize')).toEqual([
      'CIMD_ENABLED',
      'CLIENTS_TABLE',
      'CODES_TABLE',
      'CONSENTS_TABLE',
      'CONSENT_TTL_SECONDS',
      'ISSUER',
      'PENDING_TABLE',
      'PROTECTED_RESOURCES',
      'SIGN_IN_SESSION_TTL_SECONDS',
      'UPSTREAM_CLIENT_ID',
      'UPSTREAM_CLIENT_SECRET_ARN',
      'UPSTREAM_ISSUER',
      'UPSTREAM_SCOPES',
    ]);
    expect(names('Authorizer')).toEqual(['ISSUER', 'JWKS_URI', 'PROTECTED_RESOURCES', 'SIGNING_ALGORITHM', 'SIGNING_KEY_ARN']);
    for (const name of FUNCTIONS) expect(environmentOf(name).ISSUER).toBe(issuer);
    // One MCP server at /mcp, answered with the static challenge; the authorizer's cache TTL travels inside.
    for (const name of FUNCTIONS) {
      expect(JSON.parse(environmentOf(name).PROTECTED_RESOURCES)).toEqual({ servers: [{ path: '/mcp', scopeModel: mcp.scopeModel, authorizerCacheTtlSeconds: 0 }], challenges: 'gateway' });
    }
    expect(environmentOf('Authorizer').JWKS_URI).toBe(`${issuer}/jwks.json`);
    expect(environmentOf('Token')).toMatchObject({ ACCESS_TOKEN_TTL_SECONDS: '600', SIGNING_ALGORITHM: 'RS256' });
    expect(environmentOf('Authorize')).toMatchObject({ UPSTREAM_ISSUER, UPSTREAM_CLIENT_ID: 'mcp-client', UPSTREAM_SCOPES: 'openid email profile' });
    // The secret travels as an ARN only.
    expect(environmentOf('Authorize').UPSTREAM_CLIENT_SECRET_ARN).toBe(UPSTREAM_SECRET_ARN);
  });

  it('lets only the authorize function read the upstream client secret', () => {
    const readers = identityStatements(template).filter(({ statement }) => actionsOf(statement).some((action) => action.startsWith('secretsmanager:')));
    expect(readers.map(({ roles }) => roles)).toEqual([[roleOf(template, fn('Authorize'))]]);
    expect(actionsOf(readers[0].statement)).toContain('secretsmanager:GetSecretValue');
    expect(render(readers[0].statement.Resource)).toContain(':secret:mcp/upstream-client-secret-');
  });

  it('gives the team MCP function the runtime guard environment', () => {
    const handler = Object.entries(functions).find(([id]) => id.startsWith('McpHandler'))![1].Properties;
    expect(render(handler.Environment.Variables.ISSUER)).toBe(issuer);
    expect(JSON.parse(handler.Environment.Variables.SCOPE_MODEL)).toEqual(mcp.scopeModel);
  });
});

describe('INFRA-09 audit metric filters and alarms', () => {
  const filters = Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter')).map((f) => f.Properties);
  const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
  const topicId = onlyLogicalId(template, 'AWS::SNS::Topic');

  it.each([
    ['security.code_replay', ['Token'], 1],
    ['security.refresh_reuse', ['Token'], 1],
    ['register.created', ['Register'], 50],
    ['rs.denied', ['Authorizer'], 500],
    ['consent.csrf_failed', ['Authorize'], 5],
    ['upstream.callback_rejected', ['Authorize'], 5],
  ])('filters %s from the %s log group into a metric with an alarm at %d per five minutes', (eventName, sources, threshold) => {
    const matching = filters.filter((f) => f.FilterPattern === `{ $.event = "${eventName}" }`);
    expect(matching.map((f) => f.LogGroupName.Ref).sort()).toEqual(sources.map((name) => resources[fn(name)].Properties.LoggingConfig.LogGroup.Ref).sort());
    const metricName = matching[0].MetricTransformations[0].MetricName;
    const alarm = Object.values(alarms).find((a) => a.Properties.MetricName === metricName)!;
    expect(alarm.Properties).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum', Period: 300, TreatMissingData: 'notBreaching' });
    expect(alarm.Properties.Namespace).toBe(matching[0].MetricTransformations[0].MetricNamespace);
  });

  it('filters infra.fault with dependency kms from the KMS-using functions into a KMS fault alarm', () => {
    const kms = filters.filter((f) => f.FilterPattern === '{ ($.event = "infra.fault") && ($.dependency = "kms") }');
    expect(kms.map((f) => f.LogGroupName.Ref).sort()).toEqual(['Token', 'Metadata'].map((name) => resources[fn(name)].Properties.LoggingConfig.LogGroup.Ref).sort());
    const alarm = Object.values(alarms).find((a) => a.Properties.MetricName === kms[0].MetricTransformations[0].MetricName)!;
    expect(alarm.Properties.Threshold).toBe(1);
  });

  it('alarms on WAF blocked requests and on KMS keys being disabled or scheduled for deletion', () => {
    const waf = Object.values(alarms).find((a) => a.Properties.Namespace === 'AWS/WAFV2')!;
    expect(waf.Properties).toMatchObject({ MetricName: 'BlockedRequests', Dimensions: expect.arrayContaining([{ Name: 'Rule', Value: 'ALL' }]) });
    const keyState = filters.find((f) => JSON.stringify(f.FilterPattern).includes('ScheduleKeyDeletion'))!;
    expect(keyState.LogGroupName).toEqual({ Ref: logicalIdOf(stack, mcp.trailLogGroup!) });
    expect(render(keyState.FilterPattern)).toContain('($.eventName = "DisableKey")');
    expect(render(keyState.FilterPattern)).toContain(`($.resources[0].ARN = "{${logicalIdOf(stack, mcp.signingKey)}.Arn}")`);
  });

  it('sends every alarm to the alarm topic', () => {
    expect(Object.keys(alarms)).toHaveLength(Object.keys(mcp.alarms).length);
    for (const alarm of Object.values(alarms)) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('watches event names the handlers really emit', () => {
    const lambdaRoot = join(__dirname, '..', '..', 'lambda');
    const sources = (readdirSync(lambdaRoot, { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(lambdaRoot, file), 'utf8'))
      .join('\n');
    for (const definition of AUDIT_ALARMS) {
      const eventName = /\$\.event = "([^"]+)"/.exec(definition.filterPattern.logPatternString)![1];
      expect(sources).toContain(`'${eventName}'`);
    }
  });
});

/**
 * The step of the construction (lib/private/authorization-server/) that builds a resource, from its
 * construct path under the construct: one snapshot per step keeps a change reviewable where it happens.
 */
function builderOf(path: string): string | undefined {
  const [top, second] = path.split('/');
  if (top === 'Api') {
    if (second === 'Default' || second === 'RequestValidator' || second.endsWith('Response')) return 'routes';
    return 'api';
  }
  if (top === 'AccessLogs') return 'api';
  if (top === 'SigningKey' || top.endsWith('Table')) return 'keys-and-tables';
  if (['Metadata', 'Register', 'Token', 'Authorize', 'Authorizer'].includes(top)) return 'functions';
  if (top === 'RequestAuthorizer') return 'mcp-server';
  if (top.startsWith('WebAcl')) return 'firewall';
  if (top === 'AlarmTopic' || top === 'Dashboard' || top.startsWith('Trail') || top.endsWith('Filter') || top.endsWith('Alarm')) return 'audit';
  return undefined;
}

const BUILDERS = ['api', 'keys-and-tables', 'functions', 'routes', 'mcp-server', 'firewall', 'audit'];

describe('snapshot and determinism', () => {
  const resourceBuilders = new Map<string, string | undefined>();
  for (const element of mcp.node.findAll()) {
    if (element instanceof CfnElement) resourceBuilders.set(stack.getLogicalId(element), builderOf(element.node.path.split('/').slice(2).join('/')));
  }
  // The API deployment's logical id gains a hash of the methods at synth: it starts with the one it had.
  const builderOfId = (id: string) => resourceBuilders.get(id) ?? [...resourceBuilders].find(([known]) => id.startsWith(known) && resources[id].Type === 'AWS::ApiGateway::Deployment')?.[1];

  it('attributes every resource of the construct to one step of its construction', () => {
    const outside = Object.keys(resources).filter((id) => builderOfId(id) === undefined);
    expect(outside.map((id) => resources[id].Type).sort()).toEqual(['AWS::IAM::Role', 'AWS::Lambda::Function']); // the team's MCP handler
    expect([...resourceBuilders].filter(([, builder]) => builder === undefined).map(([id]) => id)).toEqual([]);
    expect(new Set(resourceBuilders.values())).toEqual(new Set(BUILDERS));
  });

  it.each(BUILDERS)('matches the snapshot of the %s step, with asset hashes normalised', (builder) => {
    expect.addSnapshotSerializer(assetHashSerializer);
    const own = Object.fromEntries(Object.entries(resources).filter(([id]) => builderOfId(id) === builder));
    expect({ Resources: own }).toMatchSnapshot();
  });

  it('matches the snapshot of the template outside its resources', () => {
    const { Resources: _resources, ...rest } = json as { Resources: unknown; [section: string]: unknown };
    expect(rest).toMatchSnapshot();
  });

  it('synthesizes byte-identical templates from the same code, with no machine paths', () => {
    const again = templateOf().template.toJSON();
    expect(JSON.stringify(again)).toBe(JSON.stringify(json));
    const text = JSON.stringify(json);
    for (const machinePath of [process.cwd(), tmpdir(), homedir()]) expect(text).not.toContain(machinePath);
  });
});
