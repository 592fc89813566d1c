import { AUTHORIZER_ENV, GUARD_ENV } from '../../lib/environment';
import { HANDLER_ENV } from '../../lib/private/environment';

/** The construct and the handlers share one list of variable names (lib/environment.ts). */
describe('the environment contract between the construct and the handlers', () => {
  it('does not collide with the authorizer and guard variables defined with them', () => {
    const names = [...Object.values(HANDLER_ENV), ...Object.values(AUTHORIZER_ENV), ...Object.values(GUARD_ENV)];
    expect(new Set(names).size).toBe(names.length);
  });
});
