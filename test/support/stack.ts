import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import { IdentityProvider, SecureMcpServer, SecureMcpServerProps } from '../../lib';

/**
 * Helpers for the infrastructure tests: one way to build a stack with the construct, and a renderer
 * that turns CloudFormation intrinsics into readable strings so assertions can compare whole values
 * (the issuer inside a challenge header, a table ARN inside a policy).
 */

export const UPSTREAM_ISSUER = 'https://login.example.com';
/** Imported as the README says: by complete ARN, random suffix included. */
export const UPSTREAM_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/upstream-client-secret-AbCdEf';

export interface TestStack {
  readonly app: App;
  readonly stack: Stack;
  readonly mcp: SecureMcpServer;
  readonly handler: lambda.Function;
}

/** A stack with the MCP handler, an OIDC upstream and the given props on top of the required ones. */
export function buildStack(props: Partial<SecureMcpServerProps> = {}, stackId = 'TestStack'): TestStack {
  const app = new App();
  const stack = new Stack(app, stackId);
  const handler = new lambda.Function(stack, 'McpHandler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "{}" });'),
  });
  const clientSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'UpstreamSecret', UPSTREAM_SECRET_ARN);
  const mcp = new SecureMcpServer(stack, 'Mcp', {
    handler,
    identityProvider: IdentityProvider.oidc({ issuerUrl: UPSTREAM_ISSUER, clientId: 'mcp-client', clientSecret }),
    ...props,
  });
  return { app, stack, mcp, handler };
}

export function templateOf(props: Partial<SecureMcpServerProps> = {}): { template: Template } & TestStack {
  const built = buildStack(props);
  return { ...built, template: Template.fromStack(built.stack) };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Renders intrinsics as text: `Ref X` -> `{X}`, `Fn::GetAtt [X, Y]` -> `{X.Y}`, joins concatenated,
 * `Fn::Select`/`Fn::Split` over a GetAtt kept symbolic. Anything else is an error, so a test never
 * compares against a half-rendered value.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const object = value as { [key: string]: Json };
  if (object && typeof object === 'object' && !Array.isArray(object)) {
    if ('Ref' in object) return `{${String(object.Ref)}}`;
    if ('Fn::GetAtt' in object) return `{${(object['Fn::GetAtt'] as string[]).join('.')}}`;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, Json[]];
      return parts.map(render).join(separator);
    }
    if ('Fn::Select' in object) return `{Select(${JSON.stringify(object['Fn::Select'])})}`;
  }
  throw new Error(`Cannot render ${JSON.stringify(value)}`);
}

/** The rendered execute-api stage URL of the construct's API, as the template builds it. */
export function stageUrl(apiLogicalId: string, stageName = 'prod'): string {
  return `https://{${apiLogicalId}}.execute-api.{AWS::Region}.{AWS::URLSuffix}/${stageName}`;
}

export function resourcesOfType(template: Template, type: string): Record<string, { Properties: Record<string, any>; [key: string]: any }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}

/** The single logical id of a resource type, failing when there is not exactly one. */
export function onlyLogicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  if (ids.length !== 1) throw new Error(`Expected exactly one ${type}, found ${ids.length}`);
  return ids[0];
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Sid?: string;
}

export function actionsOf(statement: PolicyStatementJson): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every identity-policy statement, with the roles its policy is attached to (logical ids). */
export function identityStatements(template: Template): { roles: string[]; statement: PolicyStatementJson }[] {
  const result: { roles: string[]; statement: PolicyStatementJson }[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((role) => role.Ref);
    for (const statement of policy.Properties.PolicyDocument.Statement as PolicyStatementJson[]) result.push({ roles, statement });
  }
  for (const [logicalId, role] of Object.entries(resourcesOfType(template, 'AWS::IAM::Role'))) {
    for (const inline of (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: PolicyStatementJson[] } }[]) {
      for (const statement of inline.PolicyDocument.Statement) result.push({ roles: [logicalId], statement });
    }
  }
  return result;
}

/** Logical id of the role of a function created by the construct (`Mcp/<Name>/Role`). */
export function roleOf(template: Template, functionLogicalId: string): string {
  const fn = template.toJSON().Resources[functionLogicalId];
  return fn.Properties.Role['Fn::GetAtt'][0];
}

/** Logical id of a construct-created function by its construct id (`Token`, `Authorizer`, ...). */
export function functionLogicalId(stack: Stack, mcp: SecureMcpServer, constructId: string): string {
  return logicalIdOf(stack, mcp.node.findChild(constructId).node.findChild('Function'));
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}
