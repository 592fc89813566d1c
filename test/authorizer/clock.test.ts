import { decide } from '../../lambda/authorizer/decide';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS as CLOCK_TOLERANCE_SECONDS } from '../../lib/authorizer-gateway';
import { authorizerConfig, authorizerEvent, mint, NOW, testKey, verificationKeys } from '../support/tokens';

// FAULT-05: the token Lambda's clock issues the token at NOW; the authorizer's clock is skewed.

const rsa = testKey('RS256');
const keys = verificationKeys('RS256', rsa);
const config = authorizerConfig();
const LIFETIME = 600;
const token = `Bearer ${mint(rsa, { claims: { iat: NOW, exp: NOW + LIFETIME } })}`;
const decisionAt = (authorizerNow: number) => {
  const decision = decide(authorizerEvent({ authorization: token }), keys, config, authorizerNow);
  return decision.effect === 'unauthorized' ? decision.reason : decision.effect;
};

test('the documented clock tolerance is 60 seconds', () => {
  expect(CLOCK_TOLERANCE_SECONDS).toBe(60);
  expect(config.clockToleranceSeconds).toBe(60);
});

describe.each([-30, 30])('FAULT-05 authorizer clock skewed by %i s', (skew) => {
  test(`FAULT-05 a fresh token is accepted (skew ${skew} s is within the tolerance)`, () => {
    expect(decisionAt(NOW + skew)).toBe('allow');
  });

  test('FAULT-05 JWT-07 the token is accepted until exp + tolerance - 1 s on the skewed clock, and refused after', () => {
    expect(decisionAt(NOW + LIFETIME + CLOCK_TOLERANCE_SECONDS - 1)).toBe('allow');
    expect(decisionAt(NOW + LIFETIME + CLOCK_TOLERANCE_SECONDS + 1)).toBe('expired');
  });
});

test('FAULT-05 JWT-08 an authorizer clock behind by more than the tolerance refuses a just-issued token', () => {
  expect(decisionAt(NOW - 8)).toBe('allow');
  expect(decisionAt(NOW - CLOCK_TOLERANCE_SECONDS)).toBe('allow');
  expect(decisionAt(NOW - CLOCK_TOLERANCE_SECONDS - 1)).toBe('not_yet_valid');
});

test('FAULT-05 exactly at exp + tolerance the token is expired (RFC 7519: now must be before exp)', () => {
  expect(decisionAt(NOW + LIFETIME + CLOCK_TOLERANCE_SECONDS)).toBe('expired');
});
