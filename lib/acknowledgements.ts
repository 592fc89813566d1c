import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Every cdk-nag finding the construct acknowledges, in one table: each entry is a fact of the design,
 * the rules of every pack (AwsSolutions, NIST 800-53 rev 5, HIPAA Security, PCI DSS 3.2.1, Serverless)
 * that report it, and the one reason given for all of them. Findings that are the deploying
 * organisation's choice (keys for logs, backup plans, tracing, ...) are never acknowledged here; the
 * README (section cdk-nag) lists them with the prop that resolves each.
 */
export interface NagAcknowledgement {
  /** The rule ids acknowledged for this fact, across packs. */
  readonly rules: readonly string[];
  /** The reason recorded with every one of those rules. */
  readonly reason: string;
  /** Where the construct records it. */
  readonly where: string;
}

export const NAG_ACKNOWLEDGEMENTS = {
  publicOAuthEndpoint: {
    rules: ['AwsSolutions-APIG4', 'AwsSolutions-COG4'],
    reason:
      'an OAuth/OIDC endpoint of the authorization server, which must be reachable without a bearer token (Cognito authorizers cannot front it); the handler authenticates clients itself where the protocol requires it',
    where: 'each public method of the routes manifest, one by one',
  },
  methodNotAllowedMock: {
    rules: ['AwsSolutions-APIG4', 'AwsSolutions-COG4'],
    reason: 'only answers 405 Method Not Allowed from a MOCK integration; it reaches no function and returns no data',
    where: 'each ANY 405 catch-all',
  },
  bearerProtectedEndpoint: {
    rules: ['AwsSolutions-COG4'],
    reason: "protected by the Lambda REQUEST authorizer, which verifies this authorization server's own RS256/ES256 access tokens (audience, scope per tool)",
    where: 'POST /mcp',
  },
  synchronousInvocation: {
    rules: ['NIST.800.53.R5-LambdaDLQ', 'HIPAA.Security-LambdaDLQ', 'Serverless-LambdaDLQ'],
    reason: 'API Gateway invokes this function synchronously and returns its errors to the caller; a dead-letter queue only applies to asynchronous invocations',
    where: 'each of the five functions',
  },
  outsideVpc: {
    rules: ['NIST.800.53.R5-LambdaInsideVPC', 'HIPAA.Security-LambdaInsideVPC', 'PCI.DSS.321-LambdaInsideVPC'],
    reason:
      'The function calls only public AWS endpoints and, for sign-in and Client ID Metadata Documents, the internet; a VPC would add NAT cost and no isolation (set the vpc prop to place it in one)',
    where: 'each of the five functions, unless vpc is set',
  },
  noResponseCache: {
    rules: ['NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'HIPAA.Security-APIGWCacheEnabledAndEncrypted', 'PCI.DSS.321-APIGWCacheEnabledAndEncrypted'],
    reason: 'Caching is deliberately off on every method: OAuth and MCP responses are per client and per token, and must never be served from a cache',
    where: 'the stage the construct creates',
  },
  lambdaIntegrationsOnly: {
    rules: ['NIST.800.53.R5-APIGWSSLEnabled', 'HIPAA.Security-APIGWSSLEnabled', 'PCI.DSS.321-APIGWSSLEnabled'],
    reason: 'Client certificates authenticate API Gateway to HTTP backends; every integration here is a Lambda proxy or MOCK integration, which do not use them',
    where: 'the stage the construct creates',
  },
  apiGatewayAccountRole: {
    rules: ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]'],
    reason: 'The account-level role API Gateway uses to write execution and access logs; AWS maintains this policy for exactly that purpose',
    where: 'the API Gateway account role (cloudWatchRole)',
  },
  vpcNetworkInterfaces: {
    rules: ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]'],
    reason: 'A function in a VPC needs to create and delete its network interfaces; AWS maintains this policy for exactly that purpose',
    where: 'each function role, when vpc is set',
  },
  tracingWrites: {
    rules: ['AwsSolutions-IAM5[Resource::*]'],
    reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; the statement holds those two actions only',
    where: 'each function role, when tracing is on',
  },
  cognitoGeneratedSecret: {
    rules: ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled', 'HIPAA.Security-SecretsManagerRotationEnabled'],
    reason: 'The secret mirrors the client secret Cognito generated for the upstream app client; Secrets Manager cannot rotate it, Cognito client secret rotation replaces it',
    where: 'the Cognito upstream secret',
  },
  machineClientSecret: {
    rules: ['AwsSolutions-SMG4', 'NIST.800.53.R5-SecretsManagerRotationEnabled', 'HIPAA.Security-SecretsManagerRotationEnabled'],
    reason:
      'A machine client secret is held by the client it was given to: its operator rotates it by putting a new value (the token function re-reads it within 10 minutes); automatic rotation would lock that client out',
    where: 'each generated machine client secret',
  },
  firewallDisabled: {
    rules: ['AwsSolutions-APIG3', 'NIST.800.53.R5-APIGWAssociatedWithWAF', 'PCI.DSS.321-APIGWAssociatedWithWAF'],
    reason: 'The SecureMcpServer was configured with Firewall.disabled(): the stage is protected by API Gateway throttling only',
    where: 'the stage, with Firewall.disabled() only',
  },
} as const satisfies Record<string, NagAcknowledgement>;

/** A fact of the design the construct acknowledges cdk-nag findings for. */
export type NagAcknowledgementId = keyof typeof NAG_ACKNOWLEDGEMENTS;

/** Every rule id in the table. */
export function acknowledgedNagRules(): string[] {
  return [...new Set(Object.values(NAG_ACKNOWLEDGEMENTS).flatMap((entry) => entry.rules))].sort();
}

/** Which acknowledgements a construct tree records: all of them, or all but some rules, or none. */
export interface NagAcknowledgementPolicy {
  readonly enabled: boolean;
  readonly withheldRules: ReadonlySet<string>;
}

const policies = new WeakMap<IConstruct, NagAcknowledgementPolicy>();

/** @internal Records the policy for `scope` and everything below it. */
export function _setNagAcknowledgementPolicy(scope: IConstruct, policy: NagAcknowledgementPolicy): void {
  policies.set(scope, policy);
}

function policyOf(scope: IConstruct): NagAcknowledgementPolicy | undefined {
  for (const ancestor of [...scope.node.scopes].reverse()) {
    const policy = policies.get(ancestor);
    if (policy) return policy;
  }
  return undefined;
}

/**
 * The `{ id, reason }` entries of one fact, for `Validations.of(construct).acknowledge(...)`; with a
 * subject (a route key), the reason names it. Use it on your own constructs that share a fact with the
 * construct's (for example your MCP function: `synchronousInvocation`, `outsideVpc`).
 */
export function nagAcknowledgementsFor(id: NagAcknowledgementId, subject?: string): { id: string; reason: string }[] {
  const entry: NagAcknowledgement = NAG_ACKNOWLEDGEMENTS[id];
  const reason = subject ? `${subject}: ${entry.reason}` : entry.reason;
  return entry.rules.map((rule) => ({ id: rule, reason }));
}

/** @internal Acknowledges one fact on `construct`, as the enclosing SecureMcpServer's policy allows. */
export function _acknowledge(construct: IConstruct, id: NagAcknowledgementId, subject?: string): void {
  const policy = policyOf(construct);
  if (policy && !policy.enabled) return;
  const entries = nagAcknowledgementsFor(id, subject).filter((entry) => !policy?.withheldRules.has(entry.id));
  if (entries.length > 0) Validations.of(construct).acknowledge(...entries);
}
