import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type CertificateQuery,
  type CertificateRecord,
  type CertificateStatus,
  CRLS_KEPT,
  openStore,
  type Store,
  StoreError,
  type StoreErrorCode,
} from '../../../src/ca/store/index.js';
import { runChildren, startLooper } from './children.js';
import {
  DAY,
  ev,
  fakeCert,
  type Harness,
  HIERARCHY,
  issue,
  issuer,
  randomSerial,
  reservation,
  T0,
  verifyChain,
} from './fixtures.js';

/**
 * The store contract, run against each backend (sqlite.test.ts, postgres.test.ts): every method,
 * every invariant — also as the database's own constraints, by writing to it directly — and the
 * concurrent cases (parallel callers in one process, several processes on one store).
 */
/**
 * Tests of one group run side by side (each has its own store; the search tests share one seeded
 * store, read-only): most of their time is waiting on the database.
 */
const PARALLEL = { concurrency: 4 };

export function storeContract(h: Harness): void {
  const opened: Store[] = [];
  const name = h.variant ? `${h.kind} (${h.variant})` : h.kind;
  /** Registers a test; with `h.only === 'concurrency'` only the ones about concurrent callers. */
  const test = (title: string, fn: () => Promise<void>, concurrent = false) => {
    if (h.only !== 'concurrency' || concurrent) it(title, fn);
  };
  const ctest = (title: string, fn: () => Promise<void>) => test(title, fn, true);
  after(async () => {
    for (const s of opened) await s.close().catch(() => {});
  });
  /** A fresh store with the standard hierarchy. */
  async function fresh(init = true): Promise<{ store: Store; url: string }> {
    const url = await h.freshUrl();
    const store = await openStore(url, h.options);
    opened.push(store);
    if (init) assert.equal(await store.initHierarchy(HIERARCHY, ev('init')), 'created');
    return { store, url };
  }
  async function rejectsWith(p: Promise<unknown>, code: StoreErrorCode, msg?: RegExp): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof StoreError, `expected a StoreError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (msg) assert.match(e.message, msg);
      return true;
    });
  }
  /** Runs raw SQL and expects the database to refuse it. */
  async function dbRefuses(url: string, sql: string, params: unknown[] = []): Promise<void> {
    await assert.rejects(h.sql(url, sql, params), `the database accepted: ${sql}`);
  }

  describe(`${name}: hierarchy`, PARALLEL, () => {
    test('initHierarchy creates once and reports exists afterwards; listIssuers returns what was stored', async () => {
      const { store } = await fresh();
      assert.equal(await store.initHierarchy([issuer('other', 'root')], ev('init')), 'exists');
      const list = await store.listIssuers();
      assert.deepEqual(
        list.map((i) => i.id),
        ['devices-1', 'root'],
      );
      const root = list.find((i) => i.id === 'root')!;
      const want = HIERARCHY[0]!;
      assert.deepEqual(root.certificate, want.certificate);
      assert.deepEqual(root.key, want.key);
      assert.equal(root.lastCrlNumber, 0n);
      assert.equal(root.parentId, undefined);
      assert.equal(list.find((i) => i.id === 'devices-1')!.parentId, 'root');
      // Only the first init is audited.
      const audit = await verifyChain(store);
      assert.deepEqual(
        audit.map((a) => a.action),
        ['init'],
      );
    });

    ctest('of 12 concurrent initHierarchy calls exactly one creates', async () => {
      const { store } = await fresh(false);
      const got = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.initHierarchy([issuer(`root-${i}`, 'root')], ev('init'))),
      );
      assert.equal(got.filter((g) => g === 'created').length, 1);
      assert.equal((await store.listIssuers()).length, 1);
    });

    test('accepts intermediates listed before their root', async () => {
      const { store } = await fresh(false);
      assert.equal(await store.initHierarchy([...HIERARCHY].reverse(), ev('init')), 'created');
      assert.equal((await store.listIssuers()).length, 2);
    });

    test('addIssuer adds or reports duplicate; setIssuerStatus changes status and audits', async () => {
      const { store } = await fresh();
      const pkcs11 = {
        ...issuer('devices-2', 'intermediate', 'root'),
        key: { kind: 'pkcs11' as const, uri: 'pkcs11:token=ca' },
      };
      assert.equal(await store.addIssuer(pkcs11, ev('import-issuer')), 'added');
      assert.equal(await store.addIssuer(pkcs11, ev('import-issuer')), 'duplicate');
      await store.setIssuerStatus('devices-1', 'retiring', ev('rotate'));
      await store.setIssuerStatus('devices-1', 'retiring', ev('rotate'));
      const list = await store.listIssuers();
      assert.equal(list.find((i) => i.id === 'devices-1')!.status, 'retiring');
      assert.deepEqual(list.find((i) => i.id === 'devices-2')!.key, {
        kind: 'pkcs11',
        uri: 'pkcs11:token=ca',
      });
      await rejectsWith(store.setIssuerStatus('nope', 'retired', ev('rotate')), 'unknown-issuer');
      assert.deepEqual(
        (await verifyChain(store)).map((a) => a.action),
        ['init', 'import-issuer', 'rotate'],
      );
    });

    test('an imported issuer continues its CRL numbering', async () => {
      const { store } = await fresh();
      await store.addIssuer(
        { ...issuer('legacy', 'intermediate', 'root'), lastCrlNumber: 41n },
        ev('import-issuer'),
      );
      assert.equal(await store.nextCrlNumber('legacy'), 42n);
      assert.equal((await store.listIssuers()).find((i) => i.id === 'legacy')!.lastCrlNumber, 42n);
    });

    test('rejects malformed issuers and unknown parents', async () => {
      const { store } = await fresh();
      await rejectsWith(store.addIssuer({ ...issuer('bad id!', 'root') }, ev('x')), 'bad-input');
      await rejectsWith(store.addIssuer({ ...issuer('r2', 'root'), parentId: 'root' }, ev('x')), 'bad-input');
      await rejectsWith(
        store.addIssuer(issuer('orphan', 'intermediate', 'missing'), ev('x')),
        'unknown-issuer',
      );
    });
  });

  describe(`${name}: reservations and issuance`, PARALLEL, () => {
    test('reserve → complete: the row moves reserved → issued with its certificate', async () => {
      const { store } = await fresh();
      const serial = randomSerial();
      const r = reservation(serial, { requestId: 'req-1' });
      const { cert, ...res } = r;
      assert.equal(await store.reserve(res), 'reserved');
      const reserved = await store.getCertificate('devices-1', serial);
      assert.equal(reserved?.state, 'reserved');
      assert.equal(reserved?.der, undefined);
      assert.equal(await store.status('devices-1', serial), undefined);
      await store.complete(
        {
          issuerId: 'devices-1',
          serialHex: serial,
          der: cert.der,
          fingerprint: cert.fingerprint,
          issuedAt: T0 + 5,
        },
        ev('issue', { serialHex: serial }),
      );
      const got = await store.getCertificate('devices-1', serial);
      const want: CertificateRecord = {
        issuerId: 'devices-1',
        serialHex: serial,
        state: 'issued',
        profile: 'device',
        subject: res.subject,
        sans: res.sans,
        notBefore: res.notBefore,
        notAfter: res.notAfter,
        requester: res.requester,
        requestId: 'req-1',
        reservedAt: T0,
        der: cert.der,
        fingerprint: cert.fingerprint,
        issuedAt: T0 + 5,
      };
      assert.deepEqual(got, want);
      assert.deepEqual(await store.findByRequestId('req-1'), want);
      assert.deepEqual(await store.findBySerial(serial), [want]);
      assert.equal(await store.findByRequestId('req-2'), undefined);
      assert.deepEqual(await store.status('devices-1', serial), { status: 'good' });
      assert.equal(await store.status('root', serial), undefined);
    });

    test('serial-taken and request-exists; the same serial under another issuer is fine', async () => {
      const { store } = await fresh();
      const serial = randomSerial();
      const { cert: _c, ...a } = reservation(serial, { requestId: 'r-a' });
      assert.equal(await store.reserve(a), 'reserved');
      assert.equal(await store.reserve({ ...a, requestId: 'r-b' }), 'serial-taken');
      assert.equal(await store.reserve({ ...a, serialHex: randomSerial() }), 'request-exists');
      assert.equal(await store.reserve({ ...a, requestId: 'r-a' }), 'request-exists');
      assert.equal(await store.reserve({ ...a, issuerId: 'root', requestId: 'r-c' }), 'reserved');
      assert.equal((await store.findBySerial(serial)).length, 2);
    });

    ctest('of 200 concurrent reserves over 40 serials, exactly one per serial wins', async () => {
      const { store } = await fresh();
      const serials = Array.from({ length: 40 }, randomSerial);
      const got = await Promise.all(
        Array.from({ length: 200 }, (_, i) => {
          const { cert: _c, ...r } = reservation(serials[i % 40]!, { requestId: `req-${i % 120}` });
          return store.reserve(r).then((g) => ({ i, g }));
        }),
      );
      const won = got.filter((x) => x.g === 'reserved');
      assert.equal(won.length, 40);
      assert.equal(new Set(won.map((x) => x.i % 40)).size, 40);
      for (const x of got) assert.ok(['reserved', 'serial-taken', 'request-exists'].includes(x.g));
    });

    test('complete refuses a row that is not reserved, a foreign TBS and a wrong fingerprint', async () => {
      const { store } = await fresh();
      const serial = randomSerial();
      const { cert, ...r } = reservation(serial);
      const c = {
        issuerId: 'devices-1',
        serialHex: serial,
        der: cert.der,
        fingerprint: cert.fingerprint,
        issuedAt: T0,
      };
      await rejectsWith(store.complete(c, ev('issue')), 'not-reserved');
      await store.reserve(r);
      const other = fakeCert(serial);
      await rejectsWith(
        store.complete({ ...c, der: other.der, fingerprint: other.fingerprint }, ev('issue')),
        'constraint',
      );
      await rejectsWith(store.complete({ ...c, fingerprint: other.fingerprint }, ev('issue')), 'constraint');
      await rejectsWith(
        store.complete({ ...c, der: Uint8Array.of(1, 2, 3), fingerprint: 'x' }, ev('issue')),
        'constraint',
      );
      assert.equal((await store.getCertificate('devices-1', serial))?.state, 'reserved');
      await store.complete(c, ev('issue'));
      await rejectsWith(store.complete(c, ev('issue')), 'not-reserved', /issued/);
      // Only the successful completion was audited.
      assert.deepEqual(
        (await verifyChain(store)).map((a) => a.action),
        ['init', 'issue'],
      );
    });

    ctest('a failing write in a batch fails alone', async () => {
      const { store } = await fresh();
      const s1 = randomSerial();
      const s2 = randomSerial();
      const { cert: c1, ...r1 } = reservation(s1);
      await store.reserve(r1);
      const results = await Promise.allSettled([
        store.complete(
          { issuerId: 'devices-1', serialHex: s2, der: c1.der, fingerprint: c1.fingerprint, issuedAt: T0 },
          ev('issue'),
        ),
        store.complete(
          { issuerId: 'devices-1', serialHex: s1, der: c1.der, fingerprint: c1.fingerprint, issuedAt: T0 },
          ev('issue'),
        ),
        store.appendAudit([ev('note')]),
        store.reserve({ ...r1, issuerId: 'nope' }),
      ]);
      assert.equal(results[0].status, 'rejected');
      assert.equal(results[1].status, 'fulfilled');
      assert.equal(results[2].status, 'fulfilled');
      assert.equal(results[3].status, 'rejected');
      assert.equal(((results[3] as PromiseRejectedResult).reason as StoreError).code, 'unknown-issuer');
      assert.equal((await store.getCertificate('devices-1', s1))?.state, 'issued');
      await verifyChain(store);
    });

    test('voidReservation voids a reserved row once; a crash leaves reservations for recovery', async () => {
      const { store } = await fresh();
      const serials = [randomSerial(), randomSerial(), randomSerial()];
      for (const [i, s] of serials.entries()) {
        const { cert: _c, ...r } = reservation(s, { reservedAt: T0 + i });
        await store.reserve(r);
      }
      await issue(store, randomSerial());
      const pending = await store.unresolvedReservations(T0 + 2, 10);
      assert.deepEqual(
        pending.map((p) => p.serialHex),
        serials.slice(0, 2),
      );
      assert.ok(pending[0]!.tbs.length > 0);
      assert.equal(pending[0]!.profile, 'device');
      await store.voidReservation('devices-1', serials[0]!, ev('recover'));
      await store.voidReservation('devices-1', serials[0]!, ev('recover'));
      assert.equal((await store.getCertificate('devices-1', serials[0]!))?.state, 'void');
      assert.equal(await store.status('devices-1', serials[0]!), undefined);
      assert.deepEqual(
        (await store.unresolvedReservations(T0 + 100, 10)).map((p) => p.serialHex),
        serials.slice(1),
      );
      const c = fakeCert(serials[0]!);
      await rejectsWith(
        store.complete(
          {
            issuerId: 'devices-1',
            serialHex: serials[0]!,
            der: c.der,
            fingerprint: c.fingerprint,
            issuedAt: T0,
          },
          ev('issue'),
        ),
        'not-reserved',
      );
      assert.deepEqual(
        (await verifyChain(store)).map((a) => a.action),
        ['init', 'issue', 'recover'],
      );
    });

    test('rejects malformed input before it reaches the database', async () => {
      const { store } = await fresh();
      const { cert: _c, ...r } = reservation(randomSerial());
      for (const bad of ['00ab', 'ABCD', 'abc', '', 'zz', 'a'.repeat(66)])
        await rejectsWith(store.reserve({ ...r, serialHex: bad }), 'bad-input');
      await rejectsWith(store.reserve({ ...r, notAfter: 1.5 }), 'bad-input');
      await rejectsWith(store.reserve({ ...r, sans: Array(2000).fill('dns:x') }), 'bad-input');
      await rejectsWith(store.reserve({ ...r, tbs: new Uint8Array() }), 'bad-input');
      await rejectsWith(
        store.appendAudit([{ ...ev('x'), detail: { n: 1n } as unknown as Record<string, unknown> }]),
        'bad-input',
      );
      await rejectsWith(store.getCertificate('devices-1', 'XYZ'), 'bad-input');
    });
  });

  describe(`${name}: revocation`, PARALLEL, () => {
    test('revoke, already-revoked, not-issued; status and revokedEntries follow', async () => {
      const { store } = await fresh();
      const a = await issue(store, '7f01');
      const b = await issue(store, '0a02');
      const c = await issue(store, '80');
      const { cert: _c, ...pending } = reservation('0b03');
      await store.reserve(pending);
      assert.equal(
        await store.revoke(
          'devices-1',
          a.serialHex,
          { time: T0 + 10, reason: 'keyCompromise', invalidityDate: T0 },
          ev('revoke'),
        ),
        'revoked',
      );
      assert.equal(
        await store.revoke('devices-1', a.serialHex, { time: T0 + 20, reason: 'superseded' }, ev('revoke')),
        'already-revoked',
      );
      assert.equal(
        await store.revoke('devices-1', '0b03', { time: T0, reason: 'unspecified' }, ev('revoke')),
        'not-issued',
      );
      assert.equal(
        await store.revoke('devices-1', 'abcd', { time: T0, reason: 'unspecified' }, ev('revoke')),
        'not-issued',
      );
      assert.equal(
        await store.revoke('root', b.serialHex, { time: T0, reason: 'unspecified' }, ev('revoke')),
        'not-issued',
      );
      assert.equal(
        await store.revoke('devices-1', b.serialHex, { time: T0 + 30, reason: 'superseded' }, ev('revoke')),
        'revoked',
      );
      assert.equal(
        await store.revoke(
          'devices-1',
          c.serialHex,
          { time: T0 + 40, reason: 'cessationOfOperation' },
          ev('revoke'),
        ),
        'revoked',
      );
      assert.deepEqual(await store.status('devices-1', a.serialHex), {
        status: 'revoked',
        revocationTime: T0 + 10,
        reason: 'keyCompromise',
        invalidityDate: T0,
      });
      // Ascending as numbers: 0x80 < 0x0a02 < 0x7f01.
      assert.deepEqual(await store.revokedEntries('devices-1'), [
        { serialHex: '80', revocationTime: T0 + 40, reason: 'cessationOfOperation' },
        { serialHex: '0a02', revocationTime: T0 + 30, reason: 'superseded' },
        { serialHex: '7f01', revocationTime: T0 + 10, reason: 'keyCompromise', invalidityDate: T0 },
      ]);
      assert.deepEqual(await store.revokedEntries('root'), []);
      const rec = await store.getCertificate('devices-1', b.serialHex);
      assert.deepEqual(rec?.revocation, { time: T0 + 30, reason: 'superseded' });
      await rejectsWith(
        store.revoke('devices-1', a.serialHex, { time: T0, reason: 'removeFromCRL' }, ev('revoke')),
        'bad-input',
      );
      assert.equal((await verifyChain(store)).filter((r) => r.action === 'revoke').length, 3);
    });

    test('certificateHold: release makes it good again; a hold may become a revocation', async () => {
      const { store } = await fresh();
      const a = await issue(store, randomSerial());
      const b = await issue(store, randomSerial());
      assert.equal(await store.releaseHold('devices-1', a.serialHex, ev('release-hold')), 'not-on-hold');
      assert.equal(await store.releaseHold('devices-1', 'abcd', ev('release-hold')), 'not-issued');
      assert.equal(
        await store.revoke(
          'devices-1',
          a.serialHex,
          { time: T0 + 1, reason: 'certificateHold' },
          ev('revoke'),
        ),
        'revoked',
      );
      assert.equal(
        await store.revoke(
          'devices-1',
          a.serialHex,
          { time: T0 + 2, reason: 'certificateHold' },
          ev('revoke'),
        ),
        'already-revoked',
      );
      assert.deepEqual(await store.status('devices-1', a.serialHex), {
        status: 'revoked',
        revocationTime: T0 + 1,
        reason: 'certificateHold',
      });
      assert.equal(await store.releaseHold('devices-1', a.serialHex, ev('release-hold')), 'released');
      assert.deepEqual(await store.status('devices-1', a.serialHex), { status: 'good' });
      assert.equal((await store.getCertificate('devices-1', a.serialHex))?.revocation, undefined);
      assert.equal(
        await store.revoke(
          'devices-1',
          b.serialHex,
          { time: T0 + 3, reason: 'certificateHold' },
          ev('revoke'),
        ),
        'revoked',
      );
      assert.equal(
        await store.revoke(
          'devices-1',
          b.serialHex,
          { time: T0 + 9, reason: 'keyCompromise', invalidityDate: T0 },
          ev('revoke'),
        ),
        'revoked',
      );
      assert.deepEqual(await store.status('devices-1', b.serialHex), {
        status: 'revoked',
        revocationTime: T0 + 3,
        reason: 'keyCompromise',
        invalidityDate: T0,
      });
      assert.equal(await store.releaseHold('devices-1', b.serialHex, ev('release-hold')), 'not-on-hold');
    });

    test('statusChanges lists revocations and releases in seq order', async () => {
      const { store } = await fresh();
      const a = await issue(store, randomSerial());
      const b = await issue(store, randomSerial());
      await store.revoke('devices-1', a.serialHex, { time: T0, reason: 'certificateHold' }, ev('revoke'));
      await store.revoke('devices-1', b.serialHex, { time: T0, reason: 'keyCompromise' }, ev('revoke'));
      await store.releaseHold('devices-1', a.serialHex, ev('release-hold'));
      await store.revoke('devices-1', b.serialHex, { time: T0, reason: 'keyCompromise' }, ev('revoke'));
      const all = await store.statusChanges(0, 100);
      assert.deepEqual(
        all.map((c) => c.serialHex),
        [a.serialHex, b.serialHex, a.serialHex],
      );
      assert.ok(all.every((c) => c.issuerId === 'devices-1'));
      assert.ok(all[0]!.seq < all[1]!.seq && all[1]!.seq < all[2]!.seq);
      assert.deepEqual(await store.statusChanges(all[0]!.seq, 1), [all[1]]);
      assert.deepEqual(await store.statusChanges(all[2]!.seq, 10), []);
    });
  });

  describe(`${name}: CRL numbers and CRLs`, PARALLEL, () => {
    ctest(
      'nextCrlNumber counts 1, 2, 3 per issuer; 100 concurrent calls get 100 distinct numbers',
      async () => {
        const { store } = await fresh();
        assert.equal(await store.nextCrlNumber('devices-1'), 1n);
        assert.equal(await store.nextCrlNumber('devices-1'), 2n);
        assert.equal(await store.nextCrlNumber('root'), 1n);
        const got = await Promise.all(Array.from({ length: 100 }, () => store.nextCrlNumber('devices-1')));
        assert.deepEqual(
          [...got].sort((x, y) => (x < y ? -1 : 1)),
          Array.from({ length: 100 }, (_, i) => BigInt(i + 3)),
        );
        await rejectsWith(store.nextCrlNumber('nope'), 'unknown-issuer');
      },
    );

    test('saveCrl keeps the highest numbers; latestCrl returns the highest even when saved out of order', async () => {
      const { store } = await fresh();
      assert.equal(await store.latestCrl('devices-1'), undefined);
      const numbers: bigint[] = [];
      for (let i = 0; i < CRLS_KEPT + 3; i++) numbers.push(await store.nextCrlNumber('devices-1'));
      const der = fakeCert('01').der;
      const crl = (n: bigint) => ({
        issuerId: 'devices-1',
        crlNumber: n,
        thisUpdate: T0,
        nextUpdate: T0 + DAY,
        der,
      });
      const last = numbers.at(-1)!;
      await store.saveCrl(crl(last));
      for (const n of numbers.slice(0, -1)) await store.saveCrl(crl(n));
      const latest = await store.latestCrl('devices-1');
      assert.equal(latest?.crlNumber, last);
      assert.deepEqual(latest, crl(last));
      await rejectsWith(store.saveCrl(crl(last)), 'constraint');
      await rejectsWith(store.saveCrl(crl(last + 1n)), 'constraint', /never gave out|given out/);
      await rejectsWith(store.saveCrl({ ...crl(1n), issuerId: 'nope' }), 'unknown-issuer');
    });
  });

  describe(`${name}: audit`, PARALLEL, () => {
    test('appendAudit chains records; readAudit pages them', async () => {
      const { store } = await fresh(false);
      const recs = await store.appendAudit([
        ev('a', { detail: { z: 1, a: [1, { y: 2, b: null }] } }),
        ev('b', { issuerId: 'root', serialHex: '01', fingerprint: 'ff' }),
      ]);
      assert.equal(recs[0]!.seq, 1);
      assert.equal(recs[1]!.prevHash, recs[0]!.hash);
      const more = await store.appendAudit([ev('c'), ev('d')]);
      assert.equal(more[0]!.prevHash, recs[1]!.hash);
      const all = await verifyChain(store);
      assert.deepEqual(all.slice(0, 2), recs);
      assert.deepEqual(all.slice(2), more);
      assert.deepEqual(await store.readAudit(1, 2), all.slice(1, 3));
      assert.deepEqual(await store.appendAudit([]), []);
    });

    ctest('150 concurrent appends from one process form one linear chain', async () => {
      const { store } = await fresh();
      await Promise.all(Array.from({ length: 150 }, (_, i) => store.appendAudit([ev(`n${i}`), ev(`m${i}`)])));
      const all = await verifyChain(store);
      assert.equal(all.length, 301);
      // Each call's two records are adjacent.
      for (const r of all.filter((x) => x.action.startsWith('n')))
        assert.equal(all[r.seq]!.action, `m${r.action.slice(1)}`);
    });
  });

  describe(`${name}: requests held for approval`, PARALLEL, () => {
    const held = (id: string, createdAt: number) => ({
      id,
      state: 'pending' as const,
      profile: 'sensor',
      requester: 'est:gw-1',
      csr: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00),
      subject: 'CN=sensor-1',
      sans: ['dns:sensor-1.example'],
      validityDays: 7,
      createdAt,
    });

    test('addPending stores once; getPending and listPending read back; decided once; audited', async () => {
      const { store } = await fresh();
      assert.equal(await store.addPending(held('r1', T0), ev('issue', { result: 'pending' })), 'added');
      assert.equal(await store.addPending(held('r1', T0), ev('issue', { result: 'pending' })), 'exists');
      assert.equal(await store.addPending(held('r2', T0 + 1), ev('issue', { result: 'pending' })), 'added');
      assert.equal(await store.addPending(held('r3', T0 + 2), ev('issue', { result: 'pending' })), 'added');
      assert.deepEqual(await store.getPending('r1'), held('r1', T0));
      assert.equal(await store.getPending('nope'), undefined);
      assert.deepEqual(
        (await store.listPending({ limit: 10 })).map((p) => p.id),
        ['r1', 'r2', 'r3'],
      );
      assert.deepEqual(
        (await store.listPending({ limit: 1, afterId: 'r1' })).map((p) => p.id),
        ['r2'],
      );
      const d = { state: 'approved' as const, by: 'admin:token:ops', at: T0 + 10 };
      assert.equal(await store.decidePending('r2', d, ev('approve')), 'decided');
      assert.equal(await store.decidePending('r2', { ...d, state: 'rejected' }, ev('reject')), 'not-pending');
      assert.equal(await store.decidePending('nope', d, ev('approve')), 'not-pending');
      assert.deepEqual(await store.getPending('r2'), {
        ...held('r2', T0 + 1),
        state: 'approved',
        decidedBy: 'admin:token:ops',
        decidedAt: T0 + 10,
      });
      assert.deepEqual(
        (await store.listPending({ limit: 10 })).map((p) => p.id),
        ['r1', 'r3'],
      );
      assert.deepEqual(
        (await store.listPending({ state: 'approved', limit: 10 })).map((p) => p.id),
        ['r2'],
      );
      const audit = await verifyChain(store);
      assert.deepEqual(
        audit.map((a) => `${a.action}:${a.result}`),
        ['init:ok', 'issue:pending', 'issue:pending', 'issue:pending', 'approve:ok'],
      );
      await rejectsWith(
        store.addPending({ ...held('r4', T0), state: 'approved' as 'pending' }, ev('issue')),
        'bad-input',
      );
      await rejectsWith(store.listPending({ state: 'nope' as 'pending', limit: 1 }), 'bad-input');
    });

    ctest('of 8 concurrent decisions on one request exactly one is decided', async () => {
      const { store } = await fresh();
      await store.addPending(held('c1', T0), ev('issue', { result: 'pending' }));
      const got = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.decidePending(
            'c1',
            { state: i % 2 ? 'approved' : 'rejected', by: `admin:${i}`, at: T0 + i },
            ev('decide'),
          ),
        ),
      );
      assert.equal(got.filter((g) => g === 'decided').length, 1);
    });

    test('the database keeps a decision and the request', async () => {
      const { store, url } = await fresh();
      await store.addPending(held('k1', T0), ev('issue', { result: 'pending' }));
      await store.decidePending(
        'k1',
        { state: 'rejected', by: 'admin:x', at: T0 + 1, reason: 'no' },
        ev('reject'),
      );
      await dbRefuses(url, `UPDATE pending_requests SET state = 'approved' WHERE id = 'k1'`);
      await dbRefuses(url, `DELETE FROM pending_requests WHERE id = 'k1'`);
    });
  });

  describe(`${name}: settings`, PARALLEL, () => {
    test('getSetting / setSetting', async () => {
      const { store } = await fresh(false);
      assert.equal(await store.getSetting('k'), undefined);
      await store.setSetting('k', 'v1');
      await store.setSetting('k', 'v2');
      await store.setSetting('empty', '');
      assert.equal(await store.getSetting('k'), 'v2');
      assert.equal(await store.getSetting('empty'), '');
    });
  });

  describe(`${name}: search and statistics`, PARALLEL, () => {
    // 72 certificates over two issuers and two profiles, expiring over 36 days, some revoked or on
    // hold, plus reserved and void rows; every expectation is computed from this list.
    const NOW = T0 + 10 * DAY + 30 * 60_000;
    const rows: { r: CertificateRecord; status: CertificateStatus; cn: string }[] = [];
    // Most subjects lead with their CN; some do not, one CN has an escaped comma.
    const cnOf = (i: number) => (i === 70 ? 'Device-070, Spare' : `Device-${String(i).padStart(3, '0')}`);
    const subjectOf = (i: number) =>
      i === 70
        ? 'CN=Device-070\\, Spare,O=Acme'
        : i % 12 === 5
          ? `O=Acme,CN=${cnOf(i)}`
          : `CN=${cnOf(i)},O=${i % 2 ? 'Acme' : 'Globex'}`;
    let store: Store;
    // The same store, searched with every name filter walked per row instead of resolved first.
    let walking: Store;
    let seeded: Promise<void> | undefined;
    const ready = () => (seeded ??= seed());
    async function seed(): Promise<void> {
      let url: string;
      ({ store, url } = await fresh());
      walking = await openStore(url, {
        sqlite: { ...h.options?.sqlite, candidateLimit: 0 },
        postgres: { ...h.options?.postgres, candidateLimit: 0 },
      });
      opened.push(walking);
      // Issued concurrently (group commit makes this a few transactions), listed in index order.
      const seeded = await Promise.all(
        Array.from({ length: 72 }, async (_, i) => {
          const serial = (0x1000 + i * 37).toString(16).padStart(4, '0');
          const issuerId = i % 3 === 0 ? 'root' : 'devices-1';
          const profile = i % 4 === 0 ? 'server' : 'device';
          const notAfter = T0 + (i % 36) * DAY + (i % 5) * 3_600_000;
          const issuedAt = T0 - (i % 9) * 3_600_000 + i;
          await issue(
            store,
            serial,
            {
              issuerId,
              profile,
              notAfter,
              subject: subjectOf(i),
              sans: [`dns:d${i}.fleet.example`, `ip:10.0.0.${i}`],
            },
            issuedAt,
          );
          let status: CertificateStatus = notAfter < NOW ? 'expired' : 'valid';
          if (i % 10 === 3) {
            await store.revoke(issuerId, serial, { time: T0, reason: 'keyCompromise' }, ev('revoke'));
            status = 'revoked';
          } else if (i % 10 === 7) {
            await store.revoke(issuerId, serial, { time: T0, reason: 'certificateHold' }, ev('revoke'));
            status = 'hold';
          }
          return { r: (await store.getCertificate(issuerId, serial))!, status, cn: cnOf(i) };
        }),
      );
      rows.push(...seeded);
      for (const s of ['ee01', 'ee02']) {
        const { cert: _c, ...r } = reservation(s, { subject: 'CN=pending', reservedAt: T0 - DAY });
        await store.reserve(r);
      }
      await store.voidReservation('devices-1', 'ee02', ev('recover'));
    }

    /** Every page of a query, checking that each page is at most `limit` long. */
    async function allPages(q: CertificateQuery, from = store): Promise<CertificateRecord[]> {
      const out: CertificateRecord[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 1000; n++) {
        const page = await from.findCertificates({ ...q, cursor });
        assert.ok(page.items.length <= q.limit);
        out.push(...page.items);
        if (!page.nextCursor) return out;
        assert.equal(page.items.length, q.limit);
        cursor = page.nextCursor;
      }
      throw new Error('no last page');
    }
    const key = (r: CertificateRecord) => `${r.issuerId}/${r.serialHex}`;
    function expected(
      pred: (x: (typeof rows)[number]) => boolean,
      sort: 'notAfter' | 'issuedAt',
      order: 'asc' | 'desc',
    ) {
      const v = (r: CertificateRecord) => (sort === 'notAfter' ? r.notAfter : r.issuedAt!);
      return rows
        .filter(pred)
        .map((x) => x.r)
        .sort((a, b) => (v(a) - v(b)) * (order === 'asc' ? 1 : -1))
        .map(key);
    }
    /** Keys in order, ties (equal sort values) compared as sets within their run. */
    function assertOrdered(got: CertificateRecord[], want: string[], sort: 'notAfter' | 'issuedAt') {
      assert.deepEqual(new Set(got.map(key)), new Set(want), 'same rows');
      assert.equal(got.length, want.length, 'no row twice');
      const v = (r: CertificateRecord) => (sort === 'notAfter' ? r.notAfter : (r.issuedAt ?? r.reservedAt));
      const byKey = new Map(rows.map((x) => [key(x.r), x.r]));
      assert.deepEqual(
        got.map(v),
        want.map((k) => v(byKey.get(k)!)),
        'sort order',
      );
    }

    const cases: {
      name: string;
      q: Partial<CertificateQuery>;
      pred: (x: (typeof rows)[number]) => boolean;
    }[] = [
      { name: 'everything issued', q: {}, pred: () => true },
      { name: 'issuer', q: { issuerId: 'root' }, pred: (x) => x.r.issuerId === 'root' },
      { name: 'profile', q: { profile: 'server' }, pred: (x) => x.r.profile === 'server' },
      ...(['valid', 'expired', 'revoked', 'hold'] as const).map((s) => ({
        name: `status ${s}`,
        q: { status: s },
        pred: (x: (typeof rows)[number]) => x.status === s,
      })),
      {
        name: 'subject prefix (RFC 4514 text, any case)',
        q: { subject: 'cn=DEVICE-01' },
        pred: (x) => x.r.subject.toLowerCase().startsWith('cn=device-01'),
      },
      {
        name: 'subject prefix of the CN',
        q: { subject: 'device-00' },
        pred: (x) => x.cn.toLowerCase().startsWith('device-00'),
      },
      {
        name: 'subject prefix of a CN with an escaped comma',
        q: { subject: 'DEVICE-070, s' },
        pred: (x) => x.cn.toLowerCase().startsWith('device-070, s'),
      },
      {
        name: 'subject prefix "o=acme,cn=" (a subject that does not lead with its CN)',
        q: { subject: 'o=acme,cn=dev' },
        pred: (x) => x.r.subject.toLowerCase().startsWith('o=acme,cn=dev'),
      },
      {
        name: 'subject prefix of the CN or of the text',
        q: { subject: 'device-07' },
        pred: (x) => x.cn.toLowerCase().startsWith('device-07'),
      },
      {
        name: 'SAN exact',
        q: { san: 'DNS:d17.fleet.example' },
        pred: (x) => x.r.sans.includes('dns:d17.fleet.example'),
      },
      {
        name: 'SAN prefix',
        q: { san: 'ip:10.0.0.1*' },
        pred: (x) => x.r.sans.some((s) => s.startsWith('ip:10.0.0.1')),
      },
      { name: 'serial prefix', q: { serial: '10' }, pred: (x) => x.r.serialHex.startsWith('10') },
      {
        name: 'expiry window',
        q: { expiresFrom: T0 + 5 * DAY, expiresTo: T0 + 12 * DAY },
        pred: (x) => x.r.notAfter >= T0 + 5 * DAY && x.r.notAfter < T0 + 12 * DAY,
      },
      {
        name: 'profile + issuer + status + window',
        q: { profile: 'device', issuerId: 'devices-1', status: 'valid', expiresTo: T0 + 30 * DAY },
        pred: (x) =>
          x.r.profile === 'device' &&
          x.r.issuerId === 'devices-1' &&
          x.status === 'valid' &&
          x.r.notAfter < T0 + 30 * DAY,
      },
      {
        name: 'subject and SAN prefix and serial prefix together',
        q: { subject: 'device-0', san: 'ip:10.0.0.1*', serial: '1' },
        pred: (x) =>
          x.cn.toLowerCase().startsWith('device-0') &&
          x.r.sans.some((s) => s.startsWith('ip:10.0.0.1')) &&
          x.r.serialHex.startsWith('1'),
      },
      { name: 'nothing matches', q: { subject: 'zzz' }, pred: () => false },
    ];
    for (const c of cases)
      for (const sort of ['notAfter', 'issuedAt'] as const)
        for (const order of ['asc', 'desc'] as const)
          test(`${c.name}, by ${sort} ${order}, 7 per page`, async () => {
            await ready();
            const want = expected(c.pred, sort, order);
            assertOrdered(await allPages({ ...c.q, sort, order, limit: 7, now: NOW }), want, sort);
            assertOrdered(await allPages({ ...c.q, sort, order, limit: 7, now: NOW }, walking), want, sort);
          });

    test('states: reserved and void rows only when asked; default sort issuedAt desc', async () => {
      await ready();
      const pending = await store.findCertificates({ states: ['reserved'], limit: 10 });
      assert.deepEqual(
        pending.items.map((r) => r.serialHex),
        ['ee01'],
      );
      const some = await store.findCertificates({
        states: ['reserved', 'void'],
        subject: 'cn=pending',
        limit: 10,
      });
      assert.deepEqual(new Set(some.items.map((r) => r.state)), new Set(['reserved', 'void']));
      const first = await store.findCertificates({ limit: 3 });
      assert.deepEqual(first.items.map(key), expected(() => true, 'issuedAt', 'desc').slice(0, 3));
      assert.deepEqual(
        (await store.findCertificates({ status: 'valid', states: ['void'], limit: 5 })).items,
        [],
      );
    });

    test('a cursor only continues the query it came from; limits are capped', async () => {
      await ready();
      const p = await store.findCertificates({ sort: 'notAfter', order: 'asc', limit: 5 });
      await rejectsWith(
        store.findCertificates({ sort: 'notAfter', order: 'desc', limit: 5, cursor: p.nextCursor }),
        'bad-input',
      );
      await rejectsWith(store.findCertificates({ limit: 5, cursor: 'not a cursor' }), 'bad-input');
      await rejectsWith(
        store.findCertificates({ limit: 5, cursor: Buffer.from('[1,"x"]').toString('base64url') }),
        'bad-input',
      );
      await rejectsWith(store.findCertificates({ limit: 0 }), 'bad-input');
      await rejectsWith(store.findCertificates({ limit: 5, serial: 'xyz' }), 'bad-input');
      assert.equal((await store.findCertificates({ limit: 100_000 })).items.length, 72);
    });

    test('statistics: by status, by issuer, expiring per day, issued per hour', async () => {
      await ready();
      const until = NOW + 12 * DAY + 2 * 3_600_000;
      const s = await store.statistics(NOW, until);
      const count = (st: CertificateStatus) => rows.filter((x) => x.status === st).length;
      assert.deepEqual(s.byStatus, {
        valid: count('valid'),
        expired: count('expired'),
        revoked: count('revoked'),
        hold: count('hold'),
      });
      assert.deepEqual(s.byIssuer, {
        root: rows.filter((x) => x.r.issuerId === 'root').length,
        'devices-1': rows.filter((x) => x.r.issuerId === 'devices-1').length,
      });
      const perDay: Record<string, number> = {};
      for (const x of rows)
        if (x.status === 'valid' && x.r.notAfter >= NOW && x.r.notAfter < until) {
          const d = new Date(x.r.notAfter).toISOString().slice(0, 10);
          perDay[d] = (perDay[d] ?? 0) + 1;
        }
      assert.deepEqual(s.expiringPerDay, perDay);
      const perHour: Record<string, number> = {};
      for (const x of rows) {
        const hr = new Date(x.r.issuedAt!).toISOString().slice(0, 13);
        perHour[hr] = (perHour[hr] ?? 0) + 1;
      }
      // Issued in the 7 days before `now`: all of them an hour after T0, none 10 days later.
      assert.deepEqual(s.issuedPerHour, {});
      assert.deepEqual((await store.statistics(T0 + 3_600_000, T0)).issuedPerHour, perHour);
      // Within one hour, and a window ending in the middle of an hour.
      const s2 = await store.statistics(T0 + 5 * DAY + 10 * 60_000, T0 + 5 * DAY + 3_600_000 + 60_000);
      const want2 = rows.filter(
        (x) =>
          (x.status === 'valid' || x.status === 'expired') &&
          x.r.notAfter >= T0 + 5 * DAY + 10 * 60_000 &&
          x.r.notAfter < T0 + 5 * DAY + 3_600_000 + 60_000,
      ).length;
      assert.equal(
        Object.values(s2.expiringPerDay).reduce((a, b) => a + b, 0),
        want2,
      );
      await rejectsWith(store.statistics(NOW, NOW + 20_000 * DAY), 'bad-input');
    });
  });

  describe(`${name}: the database enforces the invariants itself`, PARALLEL, () => {
    test('UNIQUE (issuer, serial), reserved-first rows, state moves, immutability, no deletes', async () => {
      const { store, url } = await fresh();
      const a = await issue(store, 'aa01');
      const cols = `(issuer_id, serial, state, profile, subject, subject_lc, sans, not_before, not_after, requester, reserved_at, listed_at, tbs, der, fingerprint, issued_at)`;
      const vals = `('devices-1', ?, ?, 'p', 's', 's', '[]', 0, 1, 'r', 0, 0, ?, ?, ?, ?)`;
      // An issued row that was never reserved.
      await dbRefuses(url, `INSERT INTO certificates ${cols} VALUES ${vals}`, [
        'bb01',
        'issued',
        null,
        a.cert.der,
        'f',
        1,
      ]);
      // A second row with a taken serial.
      await dbRefuses(url, `INSERT INTO certificates ${cols} VALUES ${vals}`, [
        'aa01',
        'reserved',
        a.cert.tbs,
        null,
        null,
        null,
      ]);
      // issued → reserved, der changed, issued without der, identity changed, delete.
      await dbRefuses(
        url,
        `UPDATE certificates SET state = 'reserved', tbs = der, der = NULL, fingerprint = NULL, issued_at = NULL WHERE serial = 'aa01'`,
      );
      await dbRefuses(url, `UPDATE certificates SET der = tbs WHERE serial = 'aa01'`);
      await dbRefuses(url, `UPDATE certificates SET serial = 'aa02' WHERE serial = 'aa01'`);
      await dbRefuses(url, `DELETE FROM certificates WHERE serial = 'aa01'`);
      const { cert: _c, ...r } = reservation('cc01');
      await store.reserve(r);
      await dbRefuses(url, `UPDATE certificates SET state = 'issued' WHERE serial = 'cc01'`);
      await dbRefuses(
        url,
        `UPDATE certificates SET revoked_at = 1, revocation_reason = 'keyCompromise' WHERE serial = 'cc01'`,
      );
      await dbRefuses(
        url,
        `UPDATE certificates SET revoked_at = 1, revocation_reason = 'removeFromCRL' WHERE serial = 'aa01'`,
      );
      assert.equal((await store.getCertificate('devices-1', 'aa01'))?.state, 'issued');
    });

    test('CRL numbers never go back; the audit log is append-only and linked', async () => {
      const { store, url } = await fresh();
      await store.nextCrlNumber('root');
      await store.nextCrlNumber('root');
      await dbRefuses(url, `UPDATE issuers SET crl_number = 1 WHERE id = 'root'`);
      await dbRefuses(url, `UPDATE issuers SET crl_number = 2 WHERE id = 'root'`);
      await dbRefuses(url, `DELETE FROM issuers WHERE id = 'devices-1'`);
      const [rec] = await store.appendAudit([ev('x')]);
      await dbRefuses(url, `UPDATE audit SET actor = 'mallory' WHERE seq = 1`);
      await dbRefuses(url, `DELETE FROM audit WHERE seq = ?`, [rec!.seq]);
      const ins = `INSERT INTO audit (seq, time, actor, action, result, prev_hash, hash) VALUES (?, 0, 'a', 'b', 'c', ?, ?)`;
      // A gap, a wrong link, a fork of an existing record.
      await dbRefuses(url, ins, [rec!.seq + 2, rec!.hash, 'e'.repeat(64)]);
      await dbRefuses(url, ins, [rec!.seq + 1, 'f'.repeat(64), 'e'.repeat(64)]);
      await dbRefuses(url, ins, [rec!.seq, rec!.prevHash, 'e'.repeat(64)]);
      await verifyChain(store);
    });
  });

  describe(`${name}: several processes on one store`, PARALLEL, () => {
    test('4 processes: reserves with colliding serials, CRL numbers and audit appends stay consistent', async () => {
      const { store, url } = await fresh();
      const results = await runChildren(url, 4, 'mixed', 60, ['thread', 'inline']);
      const won = results.flatMap((r) => r.reserved);
      // The children draw serials from one shared set of 60: each serial is reserved once.
      assert.equal(won.length, 60);
      assert.equal(new Set(won).size, 60);
      const crl = results.flatMap((r) => r.crlNumbers).map(BigInt);
      assert.equal(new Set(crl).size, crl.length);
      assert.deepEqual(
        [...crl].sort((a, b) => (a < b ? -1 : 1)),
        crl.map((_, i) => BigInt(i + 1)),
      );
      const all = await verifyChain(store);
      assert.equal(all.length, 1 + results.reduce((a, r) => a + r.audited, 0));
      for (const s of won) assert.equal((await store.getCertificate('devices-1', s))?.state, 'issued');
    });
  });

  describe(`${name}: crash`, PARALLEL, () => {
    test('kill -9 while issuing: every certificate a client received is stored, the rest is left for recovery', async () => {
      const { store, url } = await fresh();
      const looper = await startLooper(url, 'thread');
      try {
        await looper.waitFor(40);
      } finally {
        await looper.kill();
      }
      for (const s of looper.issued) assert.deepEqual(await store.status('devices-1', s), { status: 'good' });
      // Each completion committed with its audit record, or neither did.
      const audit = await verifyChain(store);
      const audited = audit.filter((a) => a.action === 'issue').map((a) => a.serialHex!);
      const issued = await everySerial(store, ['issued']);
      assert.deepEqual(new Set(issued), new Set(audited));
      assert.equal(issued.length, audited.length);
      assert.ok(issued.length >= looper.issued.length);
      // What was only reserved is what recovery finds, and voiding it leaves nothing unresolved.
      const pending = await store.unresolvedReservations(T0 + 1, 1000);
      assert.deepEqual(
        new Set(pending.map((p) => p.serialHex)),
        new Set(await everySerial(store, ['reserved'])),
      );
      for (const p of pending) await store.voidReservation(p.issuerId, p.serialHex, ev('recover'));
      assert.deepEqual(await store.unresolvedReservations(T0 + 1, 1000), []);
      for (const p of pending) assert.equal(await store.status(p.issuerId, p.serialHex), undefined);
      await verifyChain(store);
      if (h.kind === 'sqlite')
        assert.deepEqual(await h.sql(url, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    });
  });

  describe(`${name}: migrations and opening`, PARALLEL, () => {
    test('a fresh store records every schema version; re-opening changes nothing', async () => {
      const { store, url } = await fresh();
      await store.close();
      const before = await h.sql(url, 'SELECT version, applied_at FROM schema_version ORDER BY version');
      assert.ok(before.length >= 1);
      assert.deepEqual(
        before.map((r) => Number(r.version)),
        before.map((_, i) => i + 1),
      );
      const again = await openStore(url, h.options);
      opened.push(again);
      assert.equal((await again.listIssuers()).length, 2);
      assert.deepEqual(
        await h.sql(url, 'SELECT version, applied_at FROM schema_version ORDER BY version'),
        before,
      );
    });

    test('4 processes opening one new store at once: one migrates, all work', async () => {
      const url = await h.freshUrl();
      const results = await runChildren(url, 4, 'open', 0);
      assert.equal(results.length, 4);
      const versions = await h.sql(url, 'SELECT version FROM schema_version');
      assert.equal(new Set(versions.map((v) => Number(v.version))).size, versions.length);
    });

    test('a schema newer than this code is refused', async () => {
      const { store, url } = await fresh(false);
      await store.close();
      await h.sql(
        url,
        `INSERT INTO schema_version (version, applied_at, description) VALUES (999, 0, 'future')`,
      );
      await rejectsWith(openStore(url, h.options), 'schema-too-new', /999/);
    });

    ctest('writes after close are refused', async () => {
      const { store } = await fresh(false);
      await store.close();
      await rejectsWith(store.setSetting('k', 'v'), 'unavailable');
      await rejectsWith(store.getSetting('k'), 'unavailable');
    });
  });
}

/** Serials of every certificate in the given states (all pages). */
export async function everySerial(store: Store, states: CertificateQuery['states']): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.findCertificates({ states, limit: 500, cursor });
    out.push(...page.items.map((r) => r.serialHex));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
