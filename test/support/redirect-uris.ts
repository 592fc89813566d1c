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
