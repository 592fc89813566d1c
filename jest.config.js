// Handlers import ESM-only packages (jose, @middy/*, oauth4webapi, oidc-provider); jest runs CommonJS,
// so those packages go through the same TypeScript transform as our sources.
const esmOnly = ['jose', '@middy', 'oauth4webapi', 'oidc-provider', 'openid-client', '@modelcontextprotocol', 'quick-lru', 'nanoid', 'jsesc', 'eta'];
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[cm]?[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  resolver: '<rootDir>/test/support/jest-resolver.js',
  testTimeout: 30000,
  cacheDirectory: '<rootDir>/.jest-cache',
};
