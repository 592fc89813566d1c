import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { loadAuthorizerConfig } from './config';
import { createAuthorizerHandler } from './handler';
import { verificationKeysLoader } from './keys';

// Configuration and TRUSTED_JWKS are read once per container; a bad value fails the init, visibly.
// A JWKS_URI is fetched by the first request (starting it here would only move that cost into the init).
const config = loadAuthorizerConfig(process.env);
const keys = verificationKeysLoader(process.env, config.algorithm);

export const handler = createAuthorizerHandler({ config, keys, clock: systemClock, auditSink: stdoutSink });
