import type { AuthorizationServerFunction, FunctionVariable } from './functions';

/**
 * The one way a handler reads its environment: through a view that has only the variable names of its
 * function's spec (lib/functions.ts, `FUNCTION_ENVIRONMENTS`), so reading any other name does not
 * compile, and a loader cannot read a variable the construct does not give its function. The view is
 * the environment object itself, typed (no wrapper at run time: the authorizer bundle stays small).
 */

/** A process environment, or the object a test gives a loader. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The variables named `N`, each as set or undefined. Every name is a (possibly undefined) property, so
 * a view of fewer names is refused where a parser reads more.
 */
export type VariableReader<N extends string> = { readonly [Name in N]: string | undefined };

/** The view of one authorization-server function's variables. */
export type FunctionEnvironmentReader<F extends AuthorizationServerFunction> = VariableReader<FunctionVariable<F>>;

export function environmentOf<F extends AuthorizationServerFunction>(_fn: F, env: Environment): FunctionEnvironmentReader<F> {
  return env as FunctionEnvironmentReader<F>;
}

/** The value of a variable the function cannot run without; unset or empty fails the init with its name. */
export function required<N extends string>(read: VariableReader<N>, name: N): string {
  const value = read[name];
  if (value === undefined || value === '') throw new Error(`Missing required environment variable ${name}`);
  return value;
}

/** An integer variable within [min, max], or the fallback when unset; the one rule every loader uses. */
export function integer<N extends string>(read: VariableReader<N>, name: N, fallback: number, min: number, max: number): number {
  const raw = read[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A comma-separated list variable, items trimmed, empty ones dropped; unset is the empty list. */
export function list<N extends string>(read: VariableReader<N>, name: N): string[] {
  return (read[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}
