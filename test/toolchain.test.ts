import * as jose from 'jose';
import middy from '@middy/core';

// Lambda runs nodejs24.x: the test run must too (the `node` devDependency puts Node 24 first on PATH).
test('tests run on Node 24 and load the ESM-only dependencies', async () => {
  expect(process.versions.node.split('.')[0]).toBe('24');
  expect(typeof jose.jwtVerify).toBe('function');
  expect(typeof middy).toBe('function');
});
