import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { loadAuthorizerConfig } from './config';
import { createAuthorizerHandler } from './handler';

// Configuration and TRUSTED_JWKS are read once per container; a bad value fails the init, visibly.
// A JWKS_URI is fetched by the first request (starting it here would only move that cost into the init).
// Each MCP server's configuration by its route: the route decides the audience a token must carry.
const { routes, keys } = loadAuthorizerConfig(process.env);

export const handler = createAuthorizerHandler({ config: routes, keys, clock: systemClock, auditSink: stdoutSink });
