import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';
import { McpAuthorizationServer, McpAuthorizationServerProps } from './mcp-authorization-server';
import type { McpServerBaseOptions } from './mcp-server';
import type { ChallengeMode } from './protected-resources';
import { Problems } from './private/validation';
import type { ScopeModel } from './scopes';

export interface SecureMcpServerProps extends McpAuthorizationServerProps, McpServerBaseOptions {
  /**
   * Steady-state rate and burst for POST /mcp.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly mcpThrottling?: apigateway.ThrottleSettings;
}

/**
 * An OAuth 2.1 authorization server and a Lambda authorizer in front of a team's MCP server on Lambda:
 * a `McpAuthorizationServer` serving exactly one MCP server, at `/mcp`. For several MCP servers behind
 * one authorization server, use `McpAuthorizationServer` and `addMcpServer`.
 *
 * ```ts
 * const mcp = new SecureMcpServer(this, 'Mcp', {
 *   handler: mcpFunction,
 *   identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'abc', clientSecret: secret }),
 * });
 * new CfnOutput(this, 'McpUrl', { value: mcp.mcpUrl });
 * ```
 */
export class SecureMcpServer extends McpAuthorizationServer {
  /** The MCP endpoint clients connect to, and the `aud` of every access token: `issuer + /mcp`. */
  public readonly mcpUrl: string;
  /** RFC 9728 protected resource metadata, named in every 401 challenge. */
  public readonly protectedResourceMetadataUrl: string;
  /** The scope model every handler and the authorizer enforce. */
  public readonly scopeModel: ScopeModel;
  /** The environment the runtime guard reads in the MCP function (ISSUER, SCOPE_MODEL, MCP_ALLOWED_ORIGINS); set automatically on a `lambda.Function` in the same stack. */
  public readonly mcpFunctionEnvironment: Readonly<Record<string, string>>;
  public readonly authorizer: apigateway.RequestAuthorizer;

  constructor(scope: Construct, id: string, props: SecureMcpServerProps) {
    super(scope, id, props);
    // The one server's own resources keep the ids 0.2 gave them (under this construct), so that a
    // deployed stack upgrades in place.
    const server = this._protect(
      this,
      {
        handler: props.handler,
        scopes: props.scopes,
        toolScopes: props.toolScopes,
        entitlements: props.entitlements,
        allowedOrigins: props.allowedOrigins,
        authorizerCacheTtl: props.authorizerCacheTtl,
        throttling: props.mcpThrottling,
      },
      { kind: 'SecureMcpServer', handlerReferenceId: 'McpHandlerReference', throttlingProp: 'mcpThrottling' },
    );
    this.mcpUrl = server.mcpUrl;
    this.protectedResourceMetadataUrl = server.protectedResourceMetadataUrl;
    this.scopeModel = server.scopeModel;
    this.mcpFunctionEnvironment = server.mcpFunctionEnvironment;
    this.authorizer = server.authorizer;
    // Its server list is complete now: report what needs it (machine-client ceilings, environment size) at once.
    const problems = new Problems();
    for (const problem of this._serverProblems()) problems.add(problem);
    problems.throwIfAny(this.node.path);
  }

  /** @internal One server, so the static UNAUTHORIZED answer names it. */
  protected _challengeMode(): ChallengeMode {
    return 'gateway';
  }

  /** @internal */
  protected _kind(): string {
    return 'SecureMcpServer';
  }
}
