import { generateKeyPairSync, KeyObject, randomUUID, sign as cryptoSign } from 'node:crypto';
import { AwsJsonServer, AwsServiceFault as KmsFault } from './aws-json-server';

/**
 * A KMS-compatible endpoint for local runs and tests: Sign, GetPublicKey and DescribeKey over the KMS
 * JSON protocol (awsJson1_1), backed by node:crypto keys. The real @aws-sdk/client-kms talks to it,
 * so request signing, serialisation and DER signature handling run exactly as against AWS.
 */
export type LocalKeySpec = 'RSA_2048' | 'ECC_NIST_P256';

interface LocalKey {
  readonly keyId: string;
  readonly arn: string;
  readonly spec: LocalKeySpec;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  enabled: boolean;
}

const ALGORITHMS: Record<LocalKeySpec, string[]> = {
  RSA_2048: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PSS_SHA_256'],
  ECC_NIST_P256: ['ECDSA_SHA_256'],
};

export class LocalKms extends AwsJsonServer {
  private readonly keys = new Map<string, LocalKey>();
  /** Every operation served, in order (tests count calls and inspect what was asked). */
  readonly calls: { operation: string; keyId?: string }[] = [];

  constructor(private readonly region = 'us-east-1', private readonly account = '000000000000') {
    super();
  }

  createKey(spec: LocalKeySpec = 'RSA_2048'): string {
    const keyId = randomUUID();
    const pair =
      spec === 'RSA_2048'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const arn = `arn:aws:kms:${this.region}:${this.account}:key/${keyId}`;
    this.keys.set(keyId, { keyId, arn, spec, privateKey: pair.privateKey, publicKey: pair.publicKey, enabled: true });
    return arn;
  }

  /** Disables a key, as `kms:DisableKey` would: Sign then fails with KMSInvalidStateException. */
  disableKey(arn: string): void {
    this.find(arn).enabled = false;
  }

  publicKeyOf(arn: string): KeyObject {
    return this.find(arn).publicKey;
  }

  private find(keyIdOrArn: unknown): LocalKey {
    if (typeof keyIdOrArn !== 'string') throw new KmsFault('ValidationException', 'KeyId is required');
    const keyId = keyIdOrArn.startsWith('arn:') ? keyIdOrArn.split('/').pop()! : keyIdOrArn;
    const key = this.keys.get(keyId);
    if (!key) throw new KmsFault('NotFoundException', `Key '${keyIdOrArn}' does not exist`);
    return key;
  }

  protected handle(operation: string, input: Record<string, unknown>): unknown {
    this.calls.push({ operation, keyId: typeof input.KeyId === 'string' ? input.KeyId : undefined });
    switch (operation) {
      case 'Sign':
        return this.sign(input);
      case 'GetPublicKey': {
        const key = this.find(input.KeyId);
        return {
          KeyId: key.arn,
          KeySpec: key.spec,
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ALGORITHMS[key.spec],
          PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        };
      }
      case 'DescribeKey': {
        const key = this.find(input.KeyId);
        return {
          KeyMetadata: {
            KeyId: key.keyId,
            Arn: key.arn,
            KeySpec: key.spec,
            KeyUsage: 'SIGN_VERIFY',
            KeyState: key.enabled ? 'Enabled' : 'Disabled',
            Enabled: key.enabled,
            SigningAlgorithms: ALGORITHMS[key.spec],
          },
        };
      }
      default:
        throw new KmsFault('UnsupportedOperationException', `${operation} is not implemented locally`);
    }
  }

  private sign(input: Record<string, unknown>): unknown {
    const key = this.find(input.KeyId);
    if (!key.enabled) throw new KmsFault('KMSInvalidStateException', `${key.arn} is disabled.`);
    const algorithm = String(input.SigningAlgorithm);
    if (!ALGORITHMS[key.spec].includes(algorithm)) throw new KmsFault('InvalidKeyUsageException', 'Unsupported algorithm');
    if (input.MessageType !== undefined && input.MessageType !== 'RAW') {
      throw new KmsFault('ValidationException', 'Only RAW messages are supported locally');
    }
    const message = Buffer.from(String(input.Message), 'base64');
    if (message.length > 4096) throw new KmsFault('ValidationException', 'Message too long');
    const options =
      algorithm === 'RSASSA_PSS_SHA_256'
        ? { key: key.privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }
        : key.privateKey;
    // ECDSA signatures come back DER-encoded, as KMS returns them.
    const signature = cryptoSign('sha256', message, options);
    return { KeyId: key.arn, Signature: signature.toString('base64'), SigningAlgorithm: algorithm };
  }
}
