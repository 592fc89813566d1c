import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { _acknowledge, _setNagAcknowledgementPolicy } from './acknowledgements';
import { ScopeDefinition, ScopeEntitlement, ScopeModel } from './scopes';
import type { McpAuthorizationServer } from './mcp-authorization-server';

/** The MCP function and the scopes of one MCP server: what `SecureMcpServer` and `addMcpServer` share. */
export interface McpServerBaseOptions {
  /**
   * The team's MCP server: a Lambda function serving stateless Streamable HTTP on POST at its path,
   * behind the authorizer. In the authorization server's stack, or in another one of the same account
   * and Region when the authorization server has a `domainName`.
   */
  readonly handler: lambda.IFunction;

  /**
   * The scopes clients may request for this server. Those marked `isDefault` are advertised in its
   * protected resource metadata and 401 challenges and suffice for every operation without a more
   * specific rule. Scopes belong to their server: the same name on two servers is two permissions.
   * @default - `mcp:tools` (default) and `mcp:admin` (implies `mcp:tools`)
   */
  readonly scopes?: ScopeDefinition[];

  /**
   * Tool name to every scope a `tools/call` of it needs; unlisted tools need the default scopes.
   * @default - `{ admin_stats: ['mcp:admin'] }` when `scopes` is not set, otherwise none
   */
  readonly toolScopes?: Record<string, string[]>;

  /**
   * Restricts scopes to users whose upstream ID token has a claim value. Scopes that appear in no
   * entitlement are open to every signed-in user.
   * @default - `mcp:admin` for users whose groups claim (`IdentityProvider.groupsClaim`: `groups`, or
   * `cognito:groups` for Cognito) contains `admins` when `scopes` is not set, otherwise none
   */
  readonly entitlements?: ScopeEntitlement[];

  /**
   * Browser origins (`https://app.example.com`) allowed to call the MCP endpoint besides its own. The
   * construct sets them on `handler` for the runtime guard, which refuses any other `Origin` with 403.
   * @default - the MCP endpoint's own origin only; native clients send no `Origin`
   */
  readonly allowedOrigins?: string[];

  /**
   * How long API Gateway caches an authorizer decision, at most 5 minutes (and never beyond an access
   * token's lifetime). With caching on, the decision is keyed on the Authorization header alone:
   * per-tool scopes are then enforced by the runtime guard rather than at the edge, and a revoked key
   * or token keeps working until the cached decision expires.
   * @default Duration.seconds(0) - every request is authorized on its own headers, per tool
   */
  readonly authorizerCacheTtl?: Duration;
}

/** One MCP server of a `McpAuthorizationServer` (`addMcpServer`). */
export interface McpServerOptions extends McpServerBaseOptions {
  /**
   * The MCP endpoint relative to the issuer: lower-case path segments, e.g. `/search/mcp`. Its URL
   * (`issuer + path`) is the server's resource identifier and the audience of its tokens; its metadata
   * is at `/.well-known/oauth-protected-resource<path>`.
   * @default '/mcp'
   */
  readonly path?: string;

  /**
   * Steady-state rate and burst for each method of the MCP endpoint.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttling?: apigateway.ThrottleSettings;

  /**
   * What a request without `resource` (RFC 8707) means when the authorization server has several MCP
   * servers: this one. At most one server may be the default.
   * @default false - with one server, `resource` may be omitted; with several, clients must send it
   */
  readonly defaultResource?: boolean;
}

/**
 * One MCP server protected by a `McpAuthorizationServer`: its routes, its invoke permissions and its
 * method throttling, nothing stateful. Create it with `auth.addMcpServer(id, options)`.
 */
export class McpServer extends Construct {
  public readonly authorizationServer: McpAuthorizationServer;
  /** The MCP endpoint relative to the issuer, e.g. `/search/mcp`. */
  public readonly path: string;
  /** The MCP endpoint clients connect to, and the `aud` of every access token for this server: `issuer + path`. */
  public readonly mcpUrl: string;
  /** RFC 9728 protected resource metadata of this server, named in its 401 challenges. */
  public readonly protectedResourceMetadataUrl: string;
  /** The scopes, tool scopes and entitlements of this server. */
  public readonly scopeModel: ScopeModel;
  /** The environment the runtime guard reads in the MCP function (ISSUER, SCOPE_MODEL, MCP_RESOURCE_PATH, MCP_ALLOWED_ORIGINS); set automatically on a `lambda.Function` whose stack allows it. */
  public readonly mcpFunctionEnvironment: Readonly<Record<string, string>>;
  /** The API Gateway authorizer of this server's routes (shared by the servers without a result cache). */
  public readonly authorizer: apigateway.RequestAuthorizer;
  /** This server's methods, keyed `METHOD /path`: its metadata and its endpoint. */
  public readonly methods: ReadonlyMap<string, apigateway.Method>;
  /** The function API Gateway invokes: `handler`, or its reference in the authorization server's stack. */
  public readonly handler: lambda.IFunction;

  constructor(authorizationServer: McpAuthorizationServer, id: string, options: McpServerOptions) {
    super(authorizationServer, id);
    this.authorizationServer = authorizationServer;
    const server = authorizationServer._protect(this, options, { kind: 'McpServer', handlerReferenceId: 'HandlerReference', throttlingProp: 'throttling' });
    this.path = server.path;
    this.mcpUrl = server.mcpUrl;
    this.protectedResourceMetadataUrl = server.protectedResourceMetadataUrl;
    this.scopeModel = server.scopeModel;
    this.mcpFunctionEnvironment = server.mcpFunctionEnvironment;
    this.authorizer = server.authorizer;
    this.methods = server.methods;
    this.handler = server.handler;
  }
}
