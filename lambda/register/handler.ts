import { httpHandler } from '../shared/handler';
import { type HttpEvent, jsonResponse, NO_STORE, parseJsonObject, singleHeader } from '../shared/http';
import type { Audit, AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { RegisterConfig } from './config';
import { deleteClient, readClient, registerClient, RegistrationDeps, type RegisterStores, updateClient } from './registration';

export interface RegisterHandlerDeps {
  readonly config: RegisterConfig;
  readonly stores: RegisterStores;
  readonly clock: Clock;
  readonly sink: AuditSink;
  readonly countRegistration?: RegistrationDeps['countRegistration'];
}

/** POST /register (RFC 7591) and GET/PUT/DELETE /register/{client_id} (RFC 7592). JSON only, no-store. */
export function buildRegisterHandler(deps: RegisterHandlerDeps) {
  const logicFor = (audit: Audit): RegistrationDeps => ({ ...deps, audit });
  const clientIdOf = (event: HttpEvent) => event.pathParameters?.client_id ?? '';
  return httpHandler(
    {
      'POST /register': async (event, audit) => jsonResponse(201, await registerClient(parseJsonObject(event, 'invalid_client_metadata'), logicFor(audit))),
      'GET /register/{client_id}': async (event, audit) => jsonResponse(200, await readClient(clientIdOf(event), singleHeader(event, 'authorization'), logicFor(audit))),
      'PUT /register/{client_id}': async (event, audit) =>
        jsonResponse(200, await updateClient(clientIdOf(event), singleHeader(event, 'authorization'), parseJsonObject(event, 'invalid_client_metadata'), logicFor(audit))),
      'DELETE /register/{client_id}': async (event, audit) => {
        await deleteClient(clientIdOf(event), singleHeader(event, 'authorization'), logicFor(audit));
        return { statusCode: 204, headers: { ...NO_STORE }, body: '' };
      },
    },
    () => 'register.rejected',
    deps,
  );
}
