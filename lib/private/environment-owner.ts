import { Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

/**
 * What one app should create once per account and Region, however many SecureMcpServers it holds:
 * the API Gateway account setting (a true singleton), the management-event copy of the trail, the
 * token function's guaranteed concurrency. The first instance of an environment, in construction
 * order, owns each of them; later instances of the same environment find it here.
 */
export type EnvironmentResource = 'accountRole' | 'managementTrail' | 'tokenReservation';

const owners = new WeakMap<IConstruct, Map<string, unknown>>();

/** Account and Region as the stack states them; environment-agnostic stacks share one key (`Aws.ACCOUNT_ID` is one token). */
function environmentKey(scope: Construct, resource: EnvironmentResource): string {
  const stack = Stack.of(scope);
  return `${resource}|${stack.account}|${stack.region}`;
}

/** The owner registered for this environment, if any. */
export function ownerOf<T>(scope: Construct, resource: EnvironmentResource): T | undefined {
  return owners.get(scope.node.root)?.get(environmentKey(scope, resource)) as T | undefined;
}

/** Registers `owner` for this environment unless one is registered already. */
export function claim<T>(scope: Construct, resource: EnvironmentResource, owner: T): void {
  let byEnvironment = owners.get(scope.node.root);
  if (!byEnvironment) owners.set(scope.node.root, (byEnvironment = new Map()));
  const key = environmentKey(scope, resource);
  if (!byEnvironment.has(key)) byEnvironment.set(key, owner);
}
