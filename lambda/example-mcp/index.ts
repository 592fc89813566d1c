import { mcpGuardOptionsFromEnv } from '../runtime/options';
import { createExampleHandler } from './handler';

// Options (issuer, scope model, allowed origins) are read once per container.
export const handler = createExampleHandler(mcpGuardOptionsFromEnv(process.env));
