import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { findRoute, type HandlerName } from '../../lib/routes';
import { readBody, toProxyEvent, writeProxyResult } from '../../local/http-adapter';
import { lambdaContext } from './harness';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface HandlerServer {
  /** `http://127.0.0.1:<port>/<stage>`: use it as the issuer. */
  readonly issuer: string;
  /** Handlers can be attached after the server listens (their configuration needs the issuer). */
  readonly handlers: Partial<Record<HandlerName, ProxyHandler>>;
  stop(): Promise<void>;
}

/**
 * Serves in-process handlers over HTTP for a browser, routed by the routes manifest under a stage
 * prefix and converted by the local stack's adapter, so a browser talks to them as to API Gateway.
 */
export async function startHandlerServer(stage = 'prod'): Promise<HandlerServer> {
  const handlers: Partial<Record<HandlerName, ProxyHandler>> = {};
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    const match = path.startsWith(`/${stage}/`) ? findRoute(request.method ?? 'GET', path.slice(stage.length + 1)) : undefined;
    const handler = match && handlers[match.route.handler];
    if (!match || !handler) {
      writeProxyResult(response, { statusCode: 403, headers: { 'Content-Type': 'application/json' }, body: '{"message":"Forbidden"}' });
      return;
    }
    readBody(request)
      .then((body) => handler(toProxyEvent(request, body, { resource: match.route.path, stage, stagePath: path, pathParameters: match.pathParameters }), lambdaContext))
      .then((result) => writeProxyResult(response, result))
      .catch(() => writeProxyResult(response, { statusCode: 502, headers: {}, body: 'handler failed' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${stage}`,
    handlers,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
