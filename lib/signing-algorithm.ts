import * as kms from 'aws-cdk-lib/aws-kms';
import { SIGNING_ALGORITHMS } from './signing-algorithms';

/** The JWS algorithm access tokens are signed with, and the KMS key it needs. */
export class SigningAlgorithm {
  /** RSASSA-PKCS1-v1_5 with SHA-256 on an RSA_2048 key: cheaper KMS signing, faster verification, accepted by API Gateway JWT authorizers. */
  public static readonly RS256 = new SigningAlgorithm('RS256', SIGNING_ALGORITHMS.RS256.keySpec as kms.KeySpec, SIGNING_ALGORITHMS.RS256.kmsSigningAlgorithm);
  /** ECDSA P-256 with SHA-256 on an ECC_NIST_P256 key: smaller tokens. */
  public static readonly ES256 = new SigningAlgorithm('ES256', SIGNING_ALGORITHMS.ES256.keySpec as kms.KeySpec, SIGNING_ALGORITHMS.ES256.kmsSigningAlgorithm);

  private constructor(
    /** The JWS `alg`. */
    public readonly jwsAlgorithm: string,
    /** The KMS key spec a signing key for this algorithm has. */
    public readonly keySpec: kms.KeySpec,
    /** The KMS `SigningAlgorithm`, which the token function's `kms:Sign` permission is conditioned on. */
    public readonly kmsSigningAlgorithm: string,
  ) {}
}
