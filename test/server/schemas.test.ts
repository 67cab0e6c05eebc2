// The API schema module stays in step with the domain it describes (it imports only zod, so the
// lists it needs are written out there; these checks keep them equal).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REVOCATION_REASONS } from '../../src/ca/authority.js';
import { CaError } from '../../src/ca/errors.js';
import { StoreError } from '../../src/ca/store/types.js';
import { REVOCATION_REASON_NAMES } from '../../src/server/api/schemas.js';
import { STATUS_BY_CODE, toProblem } from '../../src/server/errors.js';

test('the revocation reasons of the API are the Authority’s', () => {
  assert.deepEqual([...REVOCATION_REASON_NAMES], [...REVOCATION_REASONS]);
});

test('every error code maps to a 4xx or 5xx status', () => {
  for (const [code, status] of Object.entries(STATUS_BY_CODE))
    assert.ok(status >= 400 && status < 600, `${code} → ${status}`);
});

test('5xx problems carry no message of the internal failure; 4xx carry the rule', () => {
  const internal = toProblem(
    new StoreError('unavailable', 'connect ECONNREFUSED postgres://u:pw@db/x'),
    'r1',
  );
  assert.equal(internal.status, 503);
  assert.ok(!JSON.stringify(internal.body).includes('pw@'), JSON.stringify(internal.body));
  const crash = toProblem(new TypeError('secret internals'), 'r2');
  assert.equal(crash.status, 500);
  assert.equal(crash.body.code, 'internal');
  assert.ok(!JSON.stringify(crash.body).includes('secret internals'));
  const refused = toProblem(
    new CaError('san-not-allowed', 'dns:*.com is a wildcard over a public suffix', {
      rule: 'wildcards',
      section: 'CA/B Forum BR §3.2.2.6',
    }),
  );
  assert.equal(refused.status, 400);
  assert.equal(refused.body.rule, 'wildcards');
  assert.equal(refused.body.section, 'CA/B Forum BR §3.2.2.6');
});
