import { ASSET_HASH_PLACEHOLDER, assetHashSerializer, normalizeAssetHashes } from '../../lib/testing';

const HASH = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);

describe('the asset-hash snapshot serializer shipped in lib/testing', () => {
  const template = {
    Parameters: { [`AssetParameters${HASH}S3Bucket`]: { Type: 'String' } },
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' }, S3Key: `${HASH}.zip` }, Handler: 'index.handler' },
        Metadata: { 'aws:asset:path': `asset.${HASH}`, 'aws:asset:property': 'Code' },
      },
      Image: { Type: 'AWS::Lambda::Function', Properties: { Code: { ImageUri: { 'Fn::Sub': `123.dkr.ecr.\${AWS::Region}.amazonaws.com/repo:${HASH}` } } } },
    },
  };

  it('replaces hashes in values, keys and asset metadata, and nothing else', () => {
    const normalized = normalizeAssetHashes(template);
    const text = JSON.stringify(normalized);
    expect(text).not.toContain(HASH);
    expect(normalized.Resources.Fn.Properties.Code.S3Key).toBe(`${ASSET_HASH_PLACEHOLDER}.zip`);
    expect(normalized.Resources.Fn.Metadata['aws:asset:path']).toBe(ASSET_HASH_PLACEHOLDER);
    expect(Object.keys(normalized.Parameters)).toEqual([`AssetParameters${ASSET_HASH_PLACEHOLDER}S3Bucket`]);
    expect(normalized.Resources.Fn.Properties.Handler).toBe('index.handler');
    expect(normalized.Resources.Fn.Properties.Code.S3Bucket).toEqual(template.Resources.Fn.Properties.Code.S3Bucket);
    // The input is not modified.
    expect(template.Resources.Fn.Properties.Code.S3Key).toBe(`${HASH}.zip`);
  });

  it('leaves shorter hex strings (logical id suffixes, account ids) alone', () => {
    const value = { Resources: { McpTokenFunction50C1A6A5: { Properties: { Account: '123456789012', Id: 'deadbeef' } } } };
    expect(normalizeAssetHashes(value)).toEqual(value);
  });

  it('applies to templates only, and once', () => {
    expect(assetHashSerializer.test({ Resources: {} })).toBe(true);
    expect(assetHashSerializer.test({ other: HASH })).toBe(false);
    expect(assetHashSerializer.test(HASH)).toBe(false);
    const printed = assetHashSerializer.serialize(template, {}, '', 0, [], (value) => {
      expect(assetHashSerializer.test(value)).toBe(false);
      return JSON.stringify(value);
    });
    expect(printed).toContain(`${ASSET_HASH_PLACEHOLDER}.zip`);
  });

  it('keeps a snapshot stable when only a bundle changes', () => {
    const rebuilt = JSON.parse(JSON.stringify(template).split(HASH).join('f'.repeat(64)));
    expect(normalizeAssetHashes(rebuilt)).toEqual(normalizeAssetHashes(template));
  });
});
