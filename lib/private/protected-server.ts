import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { ScopeModel } from '../scopes';

/** How one kind of construct names what `_protect` creates and reports for its MCP server. */
export interface ServerNaming {
  /** The construct in messages: `McpServer` or `SecureMcpServer`. */
  readonly kind: string;
  /** The construct id of the reference to a handler of another stack. */
  readonly handlerReferenceId: string;
  /** The prop holding the server's throttling, in messages. */
  readonly throttlingProp: string;
}

/** One MCP server of an authorization server, as the construct built it. */
export interface ProtectedServer {
  /** The construct the server's own resources and warnings belong to. */
  readonly owner: Construct;
  readonly path: string;
  readonly scopeModel: ScopeModel;
  readonly authorizerCacheTtlSeconds: number;
  readonly throttling: Required<apigateway.ThrottleSettings>;
  readonly defaultResource: boolean;
  /** The MCP function: one function serves one server (its guard is configured for that server). */
  readonly handler: object;
}

/** What `_protect` hands back to the construct that exposes the server. */
export interface BuiltServer extends ProtectedServer {
  readonly mcpUrl: string;
  readonly protectedResourceMetadataUrl: string;
  readonly mcpFunctionEnvironment: Readonly<Record<string, string>>;
  readonly authorizer: apigateway.RequestAuthorizer;
  readonly methods: ReadonlyMap<string, apigateway.Method>;
  readonly handler: lambda.IFunction;
}
