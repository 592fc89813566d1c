import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { TokenConfig } from './config';
import type { Audit } from '../shared/audit';
import { httpHandler, routeOf } from '../shared/handler';
import { HttpEvent, jsonResponse, NO_STORE, parseForm, singleHeader } from '../shared/http';
import type { JwtSigner, KmsJwksProvider } from '../shared/signer';
import { exchangeToken, type TokenDeps, type TokenStores } from './exchange';
import { revokeToken } from './revoke';
import { introspect } from './introspect';

export interface TokenHandlerDeps {
  readonly config: TokenConfig;
  readonly stores: TokenStores;
  readonly signer: JwtSigner;
  /** Public keys for introspection (KMS GetPublicKey, cached per container). */
  readonly jwks: Pick<KmsJwksProvider, 'jwks'>;
  readonly clock: Clock;
  readonly sink: AuditSink;
  /** Machine client secrets (Secrets Manager); only when the construct declares machine clients. */
  readonly machineSecret?: TokenDeps['machineSecret'];
}

const ROUTE_EVENTS: Record<string, string> = { '/token': 'token.rejected', '/revoke': 'revoke.rejected', '/introspect': 'introspect.rejected' };

/** POST /token, /revoke (RFC 7009) and /introspect (RFC 7662). Every response carries Cache-Control: no-store (AS-16). */
export function buildTokenHandler(deps: TokenHandlerDeps) {
  const logicFor = (audit: Audit): TokenDeps => ({ config: deps.config, stores: deps.stores, signer: deps.signer, clock: deps.clock, audit, machineSecret: deps.machineSecret });
  const request = (event: HttpEvent) => ({ form: parseForm(event), authorization: singleHeader(event, 'authorization') });
  return httpHandler(
    {
      'POST /token': async (event, audit) => {
        const { form, authorization } = request(event);
        return jsonResponse(200, await exchangeToken(form, authorization, logicFor(audit)));
      },
      'POST /revoke': async (event, audit) => {
        const { form, authorization } = request(event);
        await revokeToken(form, authorization, logicFor(audit));
        return { statusCode: 200, headers: { ...NO_STORE }, body: '' };
      },
      'POST /introspect': async (event, audit) => {
        const { form, authorization } = request(event);
        return jsonResponse(200, await introspect(form, authorization, { ...logicFor(audit), jwks: deps.jwks }));
      },
    },
    (event) => ROUTE_EVENTS[routeOf(event)] ?? 'token.rejected',
    deps,
  );
}
