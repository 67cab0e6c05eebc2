import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, REDACTED, redactFields, SecretSet } from '../../src/server/logging.js';

/** Field-level redaction of log records, and what reaches the destination. */
describe('redactFields', () => {
  const rows: { name: string; input: Record<string, unknown>; expect: Record<string, unknown> }[] = [
    {
      name: 'top-level secrets',
      input: { passphrase: 'p', pin: '1234', token: 't', secret: 's', password: 'x', ok: 1 },
      expect: {
        passphrase: REDACTED,
        pin: REDACTED,
        token: REDACTED,
        secret: REDACTED,
        password: REDACTED,
        ok: 1,
      },
    },
    {
      name: 'one level down',
      input: { db: { connectionString: 'postgres://u:p@h/d', host: 'h' }, key: { privateKey: 'k' } },
      expect: { db: { connectionString: REDACTED, host: 'h' }, key: { privateKey: REDACTED } },
    },
    {
      name: 'request headers, three levels down',
      input: {
        req: {
          method: 'GET',
          headers: { authorization: 'Bearer abc', cookie: 'c', 'proxy-authorization': 'p' },
        },
      },
      expect: {
        req: {
          method: 'GET',
          headers: { authorization: REDACTED, cookie: REDACTED, 'proxy-authorization': REDACTED },
        },
      },
    },
    {
      name: 'deeper than three levels: left alone (the line scrubber still sees known values)',
      input: { a: { b: { c: { token: 't' } } } },
      expect: { a: { b: { c: { token: 't' } } } },
    },
    {
      name: 'arrays and class instances are not walked',
      input: { list: [{ token: 't' }], when: new Date(0) },
      expect: { list: [{ token: 't' }], when: new Date(0) },
    },
  ];
  for (const r of rows)
    it(r.name, () => {
      const before = structuredClone(r.input);
      assert.deepEqual(redactFields(r.input), r.expect);
      assert.deepEqual(r.input, before, 'the record passed in is not modified');
    });

  it('returns the same object when nothing is sensitive (no copy per log line)', () => {
    const o = { action: 'issue', profile: 'device', nested: { serialHex: '01' } };
    assert.equal(redactFields(o), o);
  });
});

describe('createLogger', () => {
  it('censors sensitive fields and scrubs known secrets and credential-shaped text from each line', () => {
    const lines: string[] = [];
    const secrets = new SecretSet();
    secrets.add('hunter2-passphrase');
    const log = createLogger({
      secrets,
      destination: new Writable({
        write: (c, _e, cb) => {
          lines.push(String(c));
          cb();
        },
      }),
    });
    log
      .child({ component: 'ca', token: 'child-binding-token' })
      .info(
        { req: { headers: { authorization: 'Bearer abcdefghijklmnop' } }, note: 'used hunter2-passphrase' },
        'fetched postgres://fleet:s3cretpw@127.0.0.1/fleet',
      );
    const out = lines.join('');
    for (const s of ['abcdefghijklmnop', 'hunter2-passphrase', 's3cretpw', 'child-binding-token'])
      assert.ok(!out.includes(s), `${s} leaked: ${out}`);
    assert.equal(JSON.parse(out).req.headers.authorization, REDACTED);
  });

  it('the default stderr destination writes what is buffered when the process exits', () => {
    const code = [
      "import { createLogger, SecretSet } from './src/server/logging.ts';",
      'const log = createLogger({ secrets: new SecretSet() });',
      "for (let i = 0; i < 3; i++) log.info({ i }, 'line');",
      'process.exit(0);',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { i: number });
    assert.deepEqual(
      lines.map((l) => l.i),
      [0, 1, 2],
    );
  });
});
