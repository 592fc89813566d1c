import { httpHandler } from '../shared/handler';
import { jsonResponse, NO_STORE, parseJsonObject, singleHeader } from '../shared/http';
import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthServerConfig } from '../shared/config';
import type { Stores } from '../shared/stores';
import { deleteClient, readClient, registerClient, RegistrationDeps, updateClient } from './registration';

export interface RegisterHandlerDeps {
  readonly config: AuthServerConfig;
  readonly stores: Stores;
  readonly clock: Clock;
  readonly sink: AuditSink;
  readonly countRegistration?: RegistrationDeps['countRegistration'];
}

/** POST /register (RFC 7591) and GET/PUT/DELETE /register/{client_id} (RFC 7592). JSON only, no-store. */
export function buildRegisterHandler(deps: RegisterHandlerDeps) {
  return httpHandler(
    async (event, audit) => {
      const logic: RegistrationDeps = { ...deps, audit };
      const clientId = event.pathParameters?.client_id;
      if (clientId === undefined) {
        if (event.httpMethod !== 'POST') return jsonResponse(405, { error: 'invalid_request', error_description: 'Use POST.' }, { Allow: 'POST' });
        return jsonResponse(201, await registerClient(parseJsonObject(event, 'invalid_client_metadata'), logic));
      }
      const bearer = singleHeader(event, 'authorization');
      switch (event.httpMethod) {
        case 'GET':
          return jsonResponse(200, await readClient(clientId, bearer, logic));
        case 'PUT':
          return jsonResponse(200, await updateClient(clientId, bearer, parseJsonObject(event, 'invalid_client_metadata'), logic));
        case 'DELETE':
          await deleteClient(clientId, bearer, logic);
          return { statusCode: 204, headers: { ...NO_STORE }, body: '' };
        default:
          return jsonResponse(405, { error: 'invalid_request', error_description: 'Method not allowed.' }, { Allow: 'GET, PUT, DELETE' });
      }
    },
    () => 'register.rejected',
    deps,
  );
}
