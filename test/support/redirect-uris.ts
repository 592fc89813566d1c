/**
 * Near misses of a registered redirect URI that exact matching (RFC 9700 §4.1.3) must refuse: each
 * differs from `https://client.example/cb` by one thing a lenient comparison would normalise away.
 */
export const EXACT_MATCH_MUTANTS = [
  'https://client.example/cb/',
  'https://CLIENT.example/cb',
  'HTTPS://client.example/cb',
  'https://client.example:443/cb',
  'https://client.example/cb?x=1',
  'https://client.example/CB',
  'https://client.example/./cb',
  'https://client.example/cb%2F..',
  'https://client.example/c%62',
  'https://client.example/cb#',
] as const;

/**
 * Near misses of a registered loopback redirect URI (`http://127.0.0.1/cb`, which matches on any port,
 * RFC 8252 §7.3): everything but the port must still match exactly.
 */
export const LOOPBACK_MUTANTS = [
  'http://127.0.0.1:51004/cb2',
  'http://127.000.000.001:51004/cb',
  'http://localhost:51004/cb',
  'http://[::1]:51004/cb',
  'http://127.0.0.1:51004/x/../cb',
  'HTTP://127.0.0.1:51004/cb',
] as const;
