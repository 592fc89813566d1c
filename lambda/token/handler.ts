import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthServerConfig } from '../shared/config';
import { httpHandler } from '../shared/handler';
import { HttpEvent, jsonResponse, NO_STORE, parseForm, singleHeader } from '../shared/http';
import type { JwtSigner, KmsJwksProvider } from '../shared/signer';
import type { Stores } from '../shared/stores';
import { exchangeToken, type TokenDeps } from './grants';
import { revokeToken } from './revoke';
import { introspect } from './introspect';

export interface TokenHandlerDeps {
  readonly config: AuthServerConfig;
  readonly stores: Stores;
  readonly signer: JwtSigner;
  /** Public keys for introspection (KMS GetPublicKey, cached per container). */
  readonly jwks: Pick<KmsJwksProvider, 'jwks'>;
  readonly clock: Clock;
  readonly sink: AuditSink;
  /** Machine client secrets (Secrets Manager); only when the construct declares machine clients. */
  readonly machineSecret?: TokenDeps['machineSecret'];
}

const ROUTE_EVENTS: Record<string, string> = { '/token': 'token.rejected', '/revoke': 'revoke.rejected', '/introspect': 'introspect.rejected' };

/** The route of a REST API proxy event, relative to the stage (`resource` is the manifest path). */
const routeOf = (event: HttpEvent) => event.resource ?? event.path;

/** POST /token, /revoke (RFC 7009) and /introspect (RFC 7662). Every response carries Cache-Control: no-store (AS-16). */
export function buildTokenHandler(deps: TokenHandlerDeps) {
  return httpHandler(
    async (event, audit) => {
      if (event.httpMethod !== 'POST') {
        return jsonResponse(405, { error: 'invalid_request', error_description: 'Use POST.' }, { Allow: 'POST' });
      }
      const form = parseForm(event);
      const authorization = singleHeader(event, 'authorization');
      const logic = { config: deps.config, stores: deps.stores, signer: deps.signer, clock: deps.clock, audit, machineSecret: deps.machineSecret };
      switch (routeOf(event)) {
        case '/token':
          return jsonResponse(200, await exchangeToken(form, authorization, logic));
        case '/revoke':
          await revokeToken(form, authorization, logic);
          return { statusCode: 200, headers: { ...NO_STORE }, body: '' };
        case '/introspect':
          return jsonResponse(200, await introspect(form, authorization, { ...logic, jwks: deps.jwks }));
        default:
          return jsonResponse(404, { error: 'invalid_request', error_description: 'Unknown endpoint.' });
      }
    },
    (event) => ROUTE_EVENTS[routeOf(event)] ?? 'token.rejected',
    deps,
  );
}
