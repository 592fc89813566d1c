/**
 * The JWS algorithms access tokens may be signed with, and what each needs of KMS. One definition for
 * the construct (the key spec it creates, the `kms:SigningAlgorithm` its Sign permission is conditioned
 * on) and the token function (the algorithm it sends to Sign): the IAM condition must equal what Sign
 * sends, or every token request fails.
 */
export const SIGNING_ALGORITHMS = {
  /** RSASSA-PKCS1-v1_5 with SHA-256 on an RSA_2048 key. */
  RS256: { keySpec: 'RSA_2048', kmsSigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' },
  /** ECDSA P-256 with SHA-256 on an ECC_NIST_P256 key (KMS returns DER; JWS needs r||s). */
  ES256: { keySpec: 'ECC_NIST_P256', kmsSigningAlgorithm: 'ECDSA_SHA_256' },
} as const;

export type JwsAlgorithm = keyof typeof SIGNING_ALGORITHMS;
