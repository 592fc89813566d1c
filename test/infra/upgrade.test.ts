import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { templateOf } from '../support/stack';

/**
 * An existing deployment upgrades in place: CloudFormation replaces a resource whose logical id
 * changes, and for a table, a key, a bucket or a log group that loses data (or, for the signing key,
 * every token). The fixtures are the logical ids and types a default SecureMcpServer synthesized at
 * 0.1.0 and at 0.2.0 (`buildStack` of test/support/stack.ts, unchanged since).
 */
const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::CloudTrail::Trail', 'AWS::SNS::Topic', 'AWS::SecretsManager::Secret'];

const released = (version: string) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', `secure-mcp-server-${version}-logical-ids.json`), 'utf8')) as Record<string, string>;

describe('upgrading a deployed SecureMcpServer', () => {
  const now = Object.fromEntries(Object.entries(templateOf().template.toJSON().Resources as Record<string, { Type: string }>).map(([id, resource]) => [id, resource.Type]));

  it.each(['0.1', '0.2'])('keeps the logical id and type of every table, key, bucket, log group, trail and topic of %s', (version) => {
    const before = released(version);
    const stateful = Object.entries(before).filter(([, type]) => STATEFUL_TYPES.includes(type));
    // Five tables, the signing key and the trail key, the trail's two buckets, the log groups.
    expect(stateful.length).toBeGreaterThanOrEqual(18);
    expect(stateful.filter(([id, type]) => now[id] !== type)).toEqual([]);
  });

  it('creates no stateful resource a released version did not have', () => {
    const before = released('0.2');
    expect(Object.entries(now).filter(([id, type]) => STATEFUL_TYPES.includes(type) && before[id] !== type)).toEqual([]);
  });
});
