import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createTables, LOCAL_CREDENTIALS, LocalDynamoDb } from '../../local/dynamodb';
import { LocalKeySpec, LocalKms } from '../../local/kms-server';
import { KmsJwksProvider, KmsJwtSigner } from '../../lambda/shared/signer';
import { ClientStore } from '../../lambda/shared/client-store';
import { CodeStore } from '../../lambda/shared/code-store';
import { GrantStore } from '../../lambda/shared/grant-store';
import { TokenRecordReader } from '../../lambda/token/token-records';
import { ConsentStore } from '../../lambda/authorize/consent-store';
import { ChallengeCounter, PendingAuthorizationStore, SignInSessionStore, UpstreamSignInStore } from '../../lambda/authorize/pending-table';
import { randomToken } from '../../lambda/shared/crypto';
import { machineClientId } from '../../lib/machine-clients';
import type { SigningAlgorithm } from '../../lambda/shared/config';
import { functionEnvironment, type AuthorizationServerFunction } from '../../lib/functions';
import { type FunctionConfig, loadFunctionConfig } from './loaders';

export const ISSUER = 'https://mcp.example.test/prod';
export const RESOURCE = `${ISSUER}/mcp`;
const REGION = 'us-east-1';

/** A settable clock (epoch seconds) for expiry and grace-window tests. */
export class TestClock {
  constructor(public now = 1_800_000_000) {}
  readonly fn = () => this.now;
  advance(seconds: number) {
    this.now += seconds;
  }
}

/** Captures audit lines (the handlers' sink) and parses them. */
export class AuditCapture {
  readonly lines: string[] = [];
  readonly sink = (line: string) => {
    this.lines.push(line);
  };
  events(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line));
  }
  named(event: string) {
    return this.events().filter((e) => e.event === event);
  }
  clear() {
    this.lines.length = 0;
  }
}

/** Records every SDK command a client sends and can inject a fault for a named command. */
export function instrument(client: DynamoDBClient | KMSClient) {
  const calls: string[] = [];
  const faults = new Map<string, () => Error>();
  // Both clients share the smithy middleware stack; the union type hides that from TypeScript.
  (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? 'unknown';
      calls.push(name);
      const fault = faults.get(name);
      if (fault) throw fault();
      return next(args);
    },
    { step: 'initialize', name: `instrument-${randomUUID()}` },
  );
  return {
    calls,
    reset: () => (calls.length = 0),
    fail: (command: string, error: () => Error) => faults.set(command, error),
    heal: () => faults.clear(),
  };
}

export function sdkError(name: string): Error {
  const error = new Error(`${name} (injected)`);
  error.name = name;
  return error;
}

/**
 * The real parts every handler test runs against: dynalite as DynamoDB and the local KMS endpoint,
 * reached through the real AWS SDK clients.
 */
/**
 * Operator-declared machine clients as the construct configures them (`MACHINE_CLIENTS`), with their
 * secrets served the way the token function reads them from Secrets Manager.
 */
export function machineClients(clients: { name: string; scopes: string[]; introspection?: boolean; resources?: string[] }[]) {
  const secrets = new Map<string, string>();
  const config = clients.map((client) => {
    const clientId = machineClientId(client.name);
    secrets.set(clientId, randomToken(32));
    return {
      clientId,
      secretId: `arn:aws:secretsmanager:us-east-1:000000000000:secret:${client.name}-AbCdEf`,
      scopes: client.scopes,
      introspection: client.introspection ?? false,
      ...(client.resources ? { resources: client.resources } : {}),
    };
  });
  return {
    env: { MACHINE_CLIENTS: JSON.stringify(config) },
    clientId: (name: string) => machineClientId(name),
    secretOf: (name: string) => secrets.get(machineClientId(name))!,
    machineSecret: async (client: { clientId: string }) => secrets.get(client.clientId)!,
  };
}

export class Backend {
  /** The machine clients every test backend declares: `batch` (mcp:tools), `ops` (mcp:admin), `gateway` (a resource server). */
  readonly machine = machineClients([
    { name: 'batch', scopes: ['mcp:tools'] },
    { name: 'ops', scopes: ['mcp:admin', 'mcp:tools'] },
    { name: 'gateway', scopes: ['mcp:tools'], introspection: true },
    // A machine client the operator bound to one MCP server (MRS-09).
    { name: 'search-job', scopes: ['mcp:tools'], resources: ['/mcp'] },
  ]);
  readonly dynamo = new LocalDynamoDb();
  readonly kms = new LocalKms();
  db!: DynamoDBClient;
  kmsClient!: KMSClient;
  tables!: Awaited<ReturnType<typeof createTables>>;
  keyArn!: string;

  async start(spec: LocalKeySpec = 'RSA_2048') {
    await this.dynamo.start();
    await this.kms.start();
    this.db = new DynamoDBClient({ endpoint: this.dynamo.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    this.kmsClient = new KMSClient({ endpoint: this.kms.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    this.tables = await createTables(this.db, `t${randomUUID().slice(0, 8)}`);
    this.keyArn = this.kms.createKey(spec);
    return this;
  }

  async stop() {
    this.db?.destroy();
    this.kmsClient?.destroy();
    await this.kms.stop();
    await this.dynamo.stop();
  }

  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      ISSUER,
      CLIENTS_TABLE: this.tables.clients,
      CODES_TABLE: this.tables.codes,
      GRANTS_TABLE: this.tables.grants,
      PENDING_TABLE: this.tables.pending,
      CONSENTS_TABLE: this.tables.consents,
      SIGNING_KEY_ARN: this.keyArn,
      SIGNING_ALGORITHM: this.kms.publicKeyOf(this.keyArn).asymmetricKeyType === 'ec' ? 'ES256' : 'RS256',
      ...this.machine.env,
      ...overrides,
    };
  }

  /** Function `name`'s configuration, loaded from exactly its variables of this backend's environment. */
  config<F extends AuthorizationServerFunction>(name: F, overrides: Record<string, string> = {}): FunctionConfig<F> {
    return loadFunctionConfig(name, functionEnvironment(name, this.env(overrides)));
  }

  /** Every store over this backend's tables (through `db`, e.g. an instrumented client): each handler takes the ones it uses. */
  stores(db: DynamoDBClient = this.db) {
    const { tables } = this;
    return {
      clients: new ClientStore(db, tables.clients),
      codes: new CodeStore(db, tables.codes),
      grants: new GrantStore(db, tables.grants),
      records: new TokenRecordReader(db, tables),
      pendingAuthorizations: new PendingAuthorizationStore(db, tables.pending),
      signIns: new UpstreamSignInStore(db, tables.pending),
      sessions: new SignInSessionStore(db, tables.pending),
      challenges: new ChallengeCounter(db, tables.pending),
      consents: new ConsentStore(db, tables.consents),
    };
  }

  jwks(): KmsJwksProvider {
    return new KmsJwksProvider(this.kmsClient, [this.keyArn], this.env().SIGNING_ALGORITHM as SigningAlgorithm);
  }

  signer(algorithm?: SigningAlgorithm): KmsJwtSigner {
    return new KmsJwtSigner(this.kmsClient, this.keyArn, algorithm ?? (this.env().SIGNING_ALGORITHM as SigningAlgorithm));
  }
}

/** A REST API (v1) proxy event as API Gateway sends it for a route of the manifest. */
export function proxyEvent(input: {
  method: string;
  path: string;
  resource?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body?: string;
  query?: Record<string, string>;
  multiQuery?: Record<string, string[]>;
  pathParameters?: Record<string, string>;
  sourceIp?: string;
}): APIGatewayProxyEvent {
  const headers = input.headers ?? {};
  const multiValueHeaders = input.multiValueHeaders ?? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  const multiQuery = input.multiQuery ?? (input.query ? Object.fromEntries(Object.entries(input.query).map(([k, v]) => [k, [v]])) : null);
  return {
    httpMethod: input.method,
    path: `/prod${input.path}`,
    resource: input.resource ?? input.path,
    headers,
    multiValueHeaders,
    body: input.body ?? null,
    isBase64Encoded: false,
    queryStringParameters: multiQuery ? Object.fromEntries(Object.entries(multiQuery).map(([k, v]) => [k, v[v.length - 1]])) : null,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: input.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      requestId: randomUUID(),
      stage: 'prod',
      identity: { sourceIp: input.sourceIp ?? '198.51.100.7' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export function formEvent(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  return proxyEvent({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  });
}

export const lambdaContext = { awsRequestId: 'test', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
