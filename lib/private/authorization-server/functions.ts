import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { AUTHORIZER_ENV, ENV } from '../../environment';
import type { AuthorizationServerFunction } from '../../functions';
import { CLIENT_USED_MARK_ATTRIBUTES } from '../../tables';
import { claim, ownerOf } from '../environment-owner';
import { HandlerFunction } from '../handler-function';
import { createNetwork } from '../network';
import { HANDLER_THROTTLING } from '../rest-api';
import { secretId } from '../secrets';
import { grantGetPublicKey, grantSign } from '../signing-key';
import type { KeysAndTables } from './keys-and-tables';
import type { ResolvedProps } from './props';

/**
 * Step 4: the five functions of the authorization server, each with exactly the environment its spec in
 * lib/functions.ts names and exactly the KMS, DynamoDB and Secrets Manager actions its handler calls.
 */

export type FunctionEnvironments = Readonly<Record<AuthorizationServerFunction, Readonly<Record<string, string>>>>;

export interface AuthorizationServerFunctions {
  readonly functions: Readonly<Record<AuthorizationServerFunction, HandlerFunction>>;
  /** Each function's environment (`PROTECTED_RESOURCES` a Lazy, written at synth once every MCP server is known). */
  readonly environments: FunctionEnvironments;
  readonly securityGroups?: readonly ec2.ISecurityGroup[];
  readonly vpcEndpoints: Readonly<Record<string, ec2.IVpcEndpoint>>;
}

/** Half the burst API Gateway lets through to POST /token (lib/private/rest-api.ts). */
const DEFAULT_TOKEN_RESERVED_CONCURRENCY = HANDLER_THROTTLING.token.burstLimit / 2;
/** The burst of POST /register: registration never runs wider than API Gateway lets it. */
const DEFAULT_REGISTER_RESERVED_CONCURRENCY = HANDLER_THROTTLING.register.burstLimit;

/** What each function's environment holds, the values the construct decided. */
export function functionEnvironments(resolved: ResolvedProps, issuer: string, state: KeysAndTables, protectedResources: string): FunctionEnvironments {
  const { props, lifetimes, algorithm } = resolved;
  const { tables, upstream } = state;
  const common = { [ENV.issuer]: issuer, [ENV.protectedResources]: protectedResources };
  const signing = {
    [ENV.signingKeyArn]: state.signingKey.keyArn,
    [ENV.signingAlgorithm]: algorithm.jwsAlgorithm,
    ...(state.previousSigningKeys.length > 0 ? { [ENV.previousSigningKeyArns]: state.previousSigningKeys.map((key) => key.keyArn).join(',') } : {}),
  };
  const redirectPolicy = {
    ...(props.allowedRedirectHosts?.length ? { [ENV.allowedRedirectHosts]: props.allowedRedirectHosts.join(',') } : {}),
  };
  const cimd = { [ENV.cimdEnabled]: String(props.clientIdMetadataDocuments ?? true) };
  const machineClients: Record<string, string> = state.machineClientConfig.length > 0 ? { [ENV.machineClients]: JSON.stringify(state.machineClientConfig) } : {};
  return {
    // The metadata function advertises client_credentials only when machine clients exist.
    metadata: { ...common, ...signing, ...cimd, ...machineClients },
    register: {
      ...common,
      [ENV.clientsTable]: tables.clients.tableName,
      [ENV.unusedClientTtl]: String(lifetimes.unusedClient.toSeconds()),
      ...redirectPolicy,
      ...(props.extraRedirectSchemes?.length ? { [ENV.extraRedirectSchemes]: props.extraRedirectSchemes.join(',') } : {}),
      ...(props.maxRegistrationsPerDay !== undefined ? { [ENV.maxRegistrationsPerDay]: String(props.maxRegistrationsPerDay) } : {}),
    },
    token: {
      ...common,
      ...signing,
      // With metadata documents off, /token refuses URL-shaped client ids: a refresh token issued to
      // such a client before they were turned off stops working.
      ...cimd,
      [ENV.accessTokenTtl]: String(lifetimes.accessToken.toSeconds()),
      [ENV.refreshTokenTtl]: String(lifetimes.refreshToken.toSeconds()),
      [ENV.refreshTokenIdleTtl]: String(lifetimes.refreshTokenIdle.toSeconds()),
      [ENV.clientsTable]: tables.clients.tableName,
      [ENV.codesTable]: tables.codes.tableName,
      [ENV.grantsTable]: tables.grants.tableName,
      ...machineClients,
    },
    authorize: {
      ...common,
      ...cimd,
      ...redirectPolicy,
      [ENV.clientsTable]: tables.clients.tableName,
      [ENV.codesTable]: tables.codes.tableName,
      [ENV.pendingTable]: tables.pending.tableName,
      [ENV.consentsTable]: tables.consents.tableName,
      [ENV.consentTtl]: String(lifetimes.rememberConsent.toSeconds()),
      [ENV.signInSessionTtl]: String(lifetimes.signInSession.toSeconds()),
      [ENV.upstreamIssuer]: upstream.issuerUrl,
      [ENV.upstreamClientId]: upstream.clientId,
      // The ARN (or the name, see secretId), never the value: the function reads the secret at run time.
      [ENV.upstreamClientSecretArn]: secretId(upstream.clientSecret),
      [ENV.upstreamScopes]: upstream.scopes.join(' '),
    },
    authorizer: {
      ...common,
      ...signing,
      // Fetched once per container; the authorizer makes no AWS call at all. It does not read the key
      // ARNs above: they are there so that a change of the published key set (a rotation, a removed
      // previous key) changes its configuration, and every container reloads the JWKS (JWT-20).
      [AUTHORIZER_ENV.jwksUri]: `${issuer}/jwks.json`,
    },
  };
}

export function createFunctions(construct: Construct, resolved: ResolvedProps, environments: FunctionEnvironments): AuthorizationServerFunctions {
  const { props, logRetention, removalPolicy, reserveConcurrency } = resolved;
  const network = props.vpc
    ? createNetwork(construct, { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups, createEndpoints: props.createVpcEndpoints ?? false })
    : undefined;
  const handlerFunction = (name: AuthorizationServerFunction, description: string, memorySize: number, timeout: Duration, reservedConcurrentExecutions?: number) =>
    new HandlerFunction(construct, name[0].toUpperCase() + name.slice(1), {
      bundle: name,
      description,
      memorySize,
      timeout,
      environment: { ...environments[name] },
      logRetention,
      removalPolicy,
      reservedConcurrentExecutions,
      logEncryptionKey: props.logEncryptionKey,
      tracing: props.tracing,
      network,
    });
  const metadata = handlerFunction('metadata', 'OAuth/OIDC discovery documents, protected resource metadata and the JWKS', 256, Duration.seconds(10));
  const register = handlerFunction(
    'register',
    'Dynamic client registration (RFC 7591) and client management (RFC 7592)',
    256,
    Duration.seconds(10),
    reserveConcurrency ? (props.registerReservedConcurrency ?? DEFAULT_REGISTER_RESERVED_CONCURRENCY) : undefined,
  );
  // Register: a ceiling, its route's burst. Token: a guaranteed share (half its route's burst), reserved
  // once per account and Region of the app by default; later instances draw on unreserved concurrency.
  const tokenReservation = props.tokenReservedConcurrency ?? (ownerOf(construct, 'tokenReservation') ? undefined : DEFAULT_TOKEN_RESERVED_CONCURRENCY);
  if (reserveConcurrency && tokenReservation !== undefined) claim(construct, 'tokenReservation', construct);
  const token = handlerFunction('token', 'Token, revocation and introspection endpoints; signs access tokens with KMS', 512, Duration.seconds(10), reserveConcurrency ? tokenReservation : undefined);
  // Upstream calls are budgeted well inside API Gateway's 29-second integration timeout.
  const authorize = handlerFunction('authorize', 'Authorization endpoint, upstream OpenID Connect sign-in and consent', 512, Duration.seconds(25));
  const authorizer = handlerFunction('authorizer', 'Lambda REQUEST authorizer of the MCP endpoint: verifies access tokens locally', 512, Duration.seconds(10));
  return { functions: { metadata, register, token, authorize, authorizer }, environments, securityGroups: network?.securityGroups, vpcEndpoints: network?.endpoints ?? {} };
}

/** Least privilege: exactly the KMS, DynamoDB and Secrets Manager actions each handler calls. */
export function grantHandlerPermissions(resolved: ResolvedProps, state: KeysAndTables, functions: AuthorizationServerFunctions['functions']): void {
  const { tables, signingKey, previousSigningKeys, upstream } = state;
  const { token, register, authorize, metadata } = functions;
  grantSign(signingKey, token.role, resolved.algorithm.kmsSigningAlgorithm, resolved.props.signingKey === undefined);
  grantGetPublicKey([signingKey, ...previousSigningKeys], token.role, 'TokenFunctionPublicKeyRead');
  grantGetPublicKey([signingKey, ...previousSigningKeys], metadata.role, 'MetadataFunctionPublicKeyRead');
  tables.clients.grant(token.role, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
  tables.codes.grant(token.role, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
  tables.grants.grant(token.role, 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
  tables.clients.grant(register.role, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem');
  tables.clients.grant(authorize.role, 'dynamodb:GetItem');
  authorize.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'MarkClientUsedOnly',
      actions: ['dynamodb:UpdateItem'],
      resources: [tables.clients.tableArn],
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...CLIENT_USED_MARK_ATTRIBUTES] },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    }),
  );
  tables.codes.grant(authorize.role, 'dynamodb:PutItem');
  tables.pending.grant(authorize.role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem');
  tables.consents.grant(authorize.role, 'dynamodb:GetItem', 'dynamodb:PutItem');
  upstream.clientSecret.grantRead(authorize.role);
  for (const client of state.machineClients) client.secret.grantRead(token.role);
}
