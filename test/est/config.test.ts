// The `est` section of the CA configuration: defaults, and every refusal with the path it names.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/ca/config.js';
import { CaError } from '../../src/ca/errors.js';
import { parseEstConfig, subjectRegExp } from '../../src/est/config.js';

describe('est config', () => {
  it('no section: the label default, for the device profile, every credential kind', () => {
    const c = parseEstConfig(parseConfig({}));
    assert.deepEqual(Object.keys(c.labels), ['default']);
    const d = c.labels.default!;
    assert.equal(d.profile, 'device');
    assert.equal(d.issuer, 'issuing');
    assert.deepEqual(d.credentials, ['bootstrap', 'token', 'device']);
    assert.equal(d.channelBinding, 'off');
    assert.equal(d.retryAfterSeconds, 60);
  });

  it('labels with their own profile and rules', () => {
    const c = parseEstConfig(
      parseConfig({
        profiles: { sensor: { approval: 'manual' } },
        est: {
          labels: { sensors: { profile: 'sensor', credentials: ['token'], channelBinding: 'require' } },
        },
      }),
    );
    assert.deepEqual(Object.keys(c.labels).sort(), ['default', 'sensors']);
    assert.equal(c.labels.sensors!.profile, 'sensor');
    assert.deepEqual(c.labels.sensors!.credentials, ['token']);
  });

  const refused: { name: string; est: unknown; path: string }[] = [
    { name: 'an unknown key at the top', est: { labelz: {} }, path: 'est.labelz' },
    {
      name: 'an unknown key in a label',
      est: { labels: { a: { subjct: 'x' } } },
      path: 'est.labels.a.subjct',
    },
    {
      name: 'an unknown key in bootstrap',
      est: { labels: { a: { bootstrap: { ca: [] } } } },
      path: 'est.labels.a.bootstrap.ca',
    },
    {
      name: 'a label that is an operation name',
      est: { labels: { cacerts: {} } },
      path: 'est.labels.cacerts',
    },
    { name: 'a label with a slash', est: { labels: { 'a/b': {} } }, path: 'est.labels.a/b' },
    { name: 'an unknown profile', est: { labels: { a: { profile: 'nope' } } }, path: 'est.labels.a.profile' },
    {
      name: "an issuer that is not the profile's",
      est: { labels: { a: { issuer: 'root' } } },
      path: 'est.labels.a.issuer',
    },
    {
      name: 'an invalid subject pattern',
      est: { labels: { a: { subject: '(' } } },
      path: 'est.labels.a.subject',
    },
    {
      name: 'an unknown credential kind',
      est: { labels: { a: { credentials: ['password'] } } },
      path: 'est.labels.a.credentials.0',
    },
    {
      name: 'no credential kind',
      est: { labels: { a: { credentials: [] } } },
      path: 'est.labels.a.credentials',
    },
  ];
  for (const c of refused)
    it(`refuses ${c.name} (${c.path})`, () => {
      assert.throws(
        () => parseEstConfig(parseConfig({ est: c.est })),
        (e: unknown) => e instanceof CaError && e.code === 'bad-config' && e.details.path === c.path,
      );
    });

  it('{cn} in a bootstrap subject pattern stands for the escaped commonName', () => {
    assert.ok(subjectRegExp('{cn}', 'dev.1').test('dev.1'));
    assert.ok(!subjectRegExp('{cn}', 'dev.1').test('devx1'));
    assert.ok(subjectRegExp('device-{cn}', 'a+b').test('device-a+b'));
    assert.ok(!subjectRegExp('device-[0-9]+').test('device-1x'));
  });
});
