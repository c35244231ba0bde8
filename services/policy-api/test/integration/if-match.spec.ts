import { expectApiErrorShape } from '../support/api-error-shape';
import { split } from '../support/fixtures';
import { Harness } from '../support/harness';
import { newHolder, putBeneficiaries, storedState } from '../support/holder';

// If-Match (RFC 9110 §13.1.1) is "*" or a list of entity-tags, and an entity-tag is quoted:
// `"v3"` or `W/"v3"`. A value outside that grammar is a malformed request (400), not a
// precondition that failed (412), since re-reading and retrying cannot fix it.
describe('PUT /policies/me/beneficiaries: If-Match', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start();
  }, 60000);
  afterAll(async () => {
    await h?.stop();
  });

  const body = { beneficiaries: split(['Ann Example']) };

  it.each([
    ['an unquoted tag', 'v1'],
    ['an unquoted weak tag', 'W/v1'],
    ['a tag without its closing quote', '"v1'],
    ['a tag without its opening quote', 'v1"'],
    ['a lower-case weak prefix', 'w/"v1"'],
    ['two tags without a comma', '"v1" "v2"'],
    ['a space inside the quotes', '"v 1"'],
    ['* in a list', '*, "v1"'],
    ['a tab inside the quotes', '"v\t1"'],
  ])('400 validation_failed for %s, and nothing is stored', async (_what, ifMatch) => {
    const holder = await newHolder(h);
    const stored = await storedState(h, holder.oid);
    const r = await putBeneficiaries(h, holder, body, { ifMatch });
    expect(r.status).toBe(400);
    expectApiErrorShape(r.body);
    expect(r.body).toEqual({
      error: 'validation_failed',
      message: expect.any(String),
      details: [
        {
          field: 'If-Match',
          message: 'If-Match must be * or a comma-separated list of quoted entity-tags, e.g. "v3"',
        },
      ],
    });
    expect(await storedState(h, holder.oid)).toEqual(stored);
  });

  it.each([
    ['the current tag', '"v1"'],
    ['the current tag with spaces around it', '  "v1"  '],
    ['a list naming it', '"v9", "v1"'],
    ['a list with empty elements (RFC 9110 §5.6.1)', ', "v1" ,,'],
  ])('matches %s', async (_what, ifMatch) => {
    const holder = await newHolder(h);
    const r = await putBeneficiaries(h, holder, body, { ifMatch });
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBe('"v2"');
  });

  it.each([
    ['a stale tag', '"v2"', 412, 'precondition_failed'],
    ['a weak tag (strong comparison never matches it)', 'W/"v1"', 412, 'precondition_failed'],
    ['a tag naming something else', '"1"', 412, 'precondition_failed'],
    ['*', '*', 428, 'precondition_required'],
    ['an empty value', '', 428, 'precondition_required'],
  ])('refuses %s', async (_what, ifMatch, status, error) => {
    const holder = await newHolder(h);
    const r = await putBeneficiaries(h, holder, body, { ifMatch });
    expect(r.status).toBe(status);
    expectApiErrorShape(r.body);
    expect(r.body.error).toBe(error);
    expect((await storedState(h, holder.oid)).version).toBe(1);
  });
});
