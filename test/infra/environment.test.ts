import { ENV } from '../../lambda/shared/config';
import { AUTHORIZER_ENV, GUARD_ENV } from '../../lambda/runtime/edge';
import { HANDLER_ENV } from '../../lib/private/environment';

/**
 * lib/ cannot import lambda/shared at run time (it is bundled into the handlers, not shipped as
 * JavaScript), so the construct keeps its own copy of the variable names; this is where a drift shows.
 */
describe('the environment contract between the construct and the handlers', () => {
  it('uses exactly the names the handlers read', () => {
    for (const [key, name] of Object.entries(HANDLER_ENV)) expect([key, ENV[key as keyof typeof ENV]]).toEqual([key, name]);
  });

  it('sets every variable the handlers read, except the ones left to their handler defaults on purpose', () => {
    // REFRESH_GRACE_SECONDS (30 s) and UPSTREAM_TIMEOUT_SECONDS (10 s) are tuning knobs of the handlers, not construct props.
    const leftToDefaults = ['refreshGrace', 'upstreamTimeout'];
    const unset = Object.keys(ENV).filter((key) => !(key in HANDLER_ENV));
    expect(unset.sort()).toEqual(leftToDefaults.sort());
  });

  it('does not collide with the authorizer and guard variables defined with them', () => {
    const names = [...Object.values(HANDLER_ENV), ...Object.values(AUTHORIZER_ENV), ...Object.values(GUARD_ENV)];
    expect(new Set(names).size).toBe(names.length);
  });
});
