/**
 * Jest helpers for snapshot-testing stacks that contain a SecureMcpServer (or any construct with
 * prebuilt assets). Asset hashes change whenever a handler bundle changes, so a snapshot that holds
 * them breaks on every upgrade of this package; the serializer replaces them with a fixed placeholder
 * and leaves everything else, so a snapshot still changes when the infrastructure does.
 *
 * ```ts
 * import { assetHashSerializer } from 'cdk-secure-mcp-server';
 * expect.addSnapshotSerializer(assetHashSerializer);
 * expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
 * ```
 */

/** What every asset hash becomes in a normalized template. */
export const ASSET_HASH_PLACEHOLDER = '[ASSET_HASH]';

/** Asset hashes are 64 lower-case hex digits (SHA-256), in S3 keys, image tags and asset parameters. */
const ASSET_HASH = /[0-9a-f]{64}/g;

/** Metadata the CDK CLI adds with machine-specific paths (`aws:asset:path` is relative to cdk.out, but still a hash). */
const ASSET_PATH_METADATA = 'aws:asset:path';

/** A deep copy of `value` with every asset hash replaced by {@link ASSET_HASH_PLACEHOLDER}. */
export function normalizeAssetHashes<T>(value: T): T {
  return normalize(value, undefined) as T;
}

function normalize(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    return key === ASSET_PATH_METADATA ? ASSET_HASH_PLACEHOLDER : value.replace(ASSET_HASH, ASSET_HASH_PLACEHOLDER);
  }
  if (Array.isArray(value)) return value.map((item) => normalize(item, undefined));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([entryKey, entry]) => [entryKey.replace(ASSET_HASH, ASSET_HASH_PLACEHOLDER), normalize(entry, entryKey)]));
  }
  return value;
}

/** Jest's snapshot serializer interface (`expect.addSnapshotSerializer`), without a dependency on Jest's types. */
export interface SnapshotSerializer {
  test(value: unknown): boolean;
  serialize<Config, Refs>(value: unknown, config: Config, indentation: string, depth: number, refs: Refs, printer: SnapshotPrinter<Config, Refs>): string;
}

export type SnapshotPrinter<Config, Refs> = (value: unknown, config: Config, indentation: string, depth: number, refs: Refs) => string;

const normalized = new WeakSet<object>();

function isTemplate(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'Resources' in value;
}

/**
 * A Jest snapshot serializer for CloudFormation templates (objects with `Resources`, e.g.
 * `Template.fromStack(stack).toJSON()`): prints them with asset hashes replaced.
 */
export const assetHashSerializer: SnapshotSerializer = {
  test: (value) => isTemplate(value) && !normalized.has(value),
  serialize(value, config, indentation, depth, refs, printer) {
    const copy = normalizeAssetHashes(value) as object;
    // The printer offers the copy to every serializer again; marking it stops this one from recursing.
    normalized.add(copy);
    return printer(copy, config, indentation, depth, refs);
  },
};
