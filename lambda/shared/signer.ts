import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { createPublicKey, JsonWebKey } from 'node:crypto';
import { sha256 } from './crypto';
import { TemporarilyUnavailableError } from './oauth-error';
import type { SigningAlgorithm } from './config';
import { SIGNING_ALGORITHMS } from '../../lib/signing-algorithms';

/**
 * JWT signing with an asymmetric KMS key: the private key never leaves KMS, one Sign call per token.
 * RS256 on RSA_2048 by default (cheaper KMS Sign, faster verification, accepted by API Gateway JWT
 * authorizers); ES256 on ECC_NIST_P256 as an option, where KMS returns DER that JWS needs as r||s.
 */
const kmsAlgorithm = (algorithm: SigningAlgorithm) => SIGNING_ALGORITHMS[algorithm].kmsSigningAlgorithm;

/** The JWS `kid` of a KMS key: derived from its ARN, so signing needs no extra KMS call. */
export function kidFor(keyArn: string): string {
  return sha256(`kid:${keyArn}`).slice(0, 22);
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/** Reads one DER length at `offset`; returns [length, next offset]. */
function derLength(der: Buffer, offset: number): [number, number] {
  const first = der[offset];
  if (first < 0x80) return [first, offset + 1];
  const count = first & 0x7f;
  if (count < 1 || count > 2) throw new Error('Unsupported DER length');
  let length = 0;
  for (let i = 1; i <= count; i++) length = (length << 8) | der[offset + i];
  return [length, offset + 1 + count];
}

/**
 * Converts an ECDSA signature from DER (SEQUENCE of two INTEGERs, as KMS returns it) to the fixed
 * 64-byte r||s form JWS requires (RFC 7518 §3.4). Integers may carry a leading 0x00 (sign byte) or
 * be shorter than 32 bytes; both are normalised.
 */
export function derToJose(der: Buffer, size = 32): Buffer {
  if (der[0] !== 0x30) throw new Error('Not a DER SEQUENCE');
  let [, offset] = derLength(der, 1);
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    if (der[offset] !== 0x02) throw new Error('Not a DER INTEGER');
    const [length, start] = derLength(der, offset + 1);
    let integer = der.subarray(start, start + length);
    while (integer.length > size && integer[0] === 0) integer = integer.subarray(1);
    if (integer.length > size) throw new Error('INTEGER too long for the curve');
    parts.push(Buffer.concat([Buffer.alloc(size - integer.length), integer]));
    offset = start + length;
  }
  return Buffer.concat(parts);
}

function kmsFault(error: unknown): never {
  throw new TemporarilyUnavailableError('kms', (error as Error)?.name ?? 'KMSError');
}

export interface JwtSigner {
  readonly algorithm: SigningAlgorithm;
  readonly kid: string;
  sign(payload: Record<string, unknown>, type: string): Promise<string>;
}

export class KmsJwtSigner implements JwtSigner {
  readonly kid: string;

  constructor(private readonly kms: KMSClient, private readonly keyArn: string, readonly algorithm: SigningAlgorithm) {
    this.kid = kidFor(keyArn);
  }

  async sign(payload: Record<string, unknown>, type: string): Promise<string> {
    const header = { alg: this.algorithm, typ: type, kid: this.kid };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await this.kms.send(
        new SignCommand({
          KeyId: this.keyArn,
          Message: Buffer.from(signingInput),
          MessageType: 'RAW',
          SigningAlgorithm: kmsAlgorithm(this.algorithm),
        }),
      ));
    } catch (error) {
      kmsFault(error);
    }
    if (!signature) kmsFault(new Error('EmptySignature'));
    const raw = Buffer.from(signature);
    return `${signingInput}.${b64url(this.algorithm === 'ES256' ? derToJose(raw) : raw)}`;
  }
}

export interface PublicJwk extends JsonWebKey {
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
}

/**
 * The JWKS of every active signing key, built from KMS GetPublicKey and cached for the container's
 * life (public keys of a KMS key never change; a rotation adds a new key ARN to the configuration).
 */
export class KmsJwksProvider {
  private cached?: Promise<{ keys: PublicJwk[] }>;

  constructor(private readonly kms: KMSClient, private readonly keyArns: string[], private readonly algorithm: SigningAlgorithm) {}

  jwks(): Promise<{ keys: PublicJwk[] }> {
    this.cached ??= this.load().catch((error) => {
      this.cached = undefined;
      throw error;
    });
    return this.cached;
  }

  private async load(): Promise<{ keys: PublicJwk[] }> {
    const keys = await Promise.all(
      this.keyArns.map(async (keyArn) => {
        let der: Uint8Array | undefined;
        try {
          ({ PublicKey: der } = await this.kms.send(new GetPublicKeyCommand({ KeyId: keyArn })));
        } catch (error) {
          kmsFault(error);
        }
        if (!der) kmsFault(new Error('EmptyPublicKey'));
        const jwk = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).export({ format: 'jwk' });
        return { ...jwk, kid: kidFor(keyArn), alg: this.algorithm, use: 'sig' as const };
      }),
    );
    return { keys };
  }
}
