/** The handlers' environment variable names (lib/environment.ts), as the construct refers to them. */
export { ENV as HANDLER_ENV } from '../environment';

/** Lambda refuses a function whose environment variables (names and values) exceed 4 KB in total. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
