// Secrets never reach a log line, an error message or the audit log: a canary passphrase and a
// canary PKCS#11 PIN go through first start, issuance, refusals, revocation, a failed token login
// and a wrong passphrase; every log record (a pino-compatible logger capturing JSON), every error
// message and every audit record is scanned for them. The logger is pino, as in the service.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import pino from 'pino';
import { Authority } from '../../src/ca/authority.js';
import { parseConfig } from '../../src/ca/config.js';
import { KeyStore } from '../../src/ca/keys.js';
import type { CaLogger } from '../../src/ca/logger.js';
import { openStore } from '../../src/ca/store/index.js';
import { badSignatureCsr, freshSigner, makeCsr } from './requests.js';

const PASSPHRASE = 'canary-passphrase-7f3a9c1e';
const PIN = 'canary-pin-51d0';
const dir = mkdtempSync(join(tmpdir(), 'fleetpki-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('no passphrase or PIN in logs, errors or the audit log', async () => {
  // A real pino logger (what the service passes), writing JSON lines into memory.
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger: CaLogger = pino({ level: 'debug' }, sink);
  const errors: string[] = [];
  const keep = (e: unknown) =>
    errors.push(`${(e as Error).name}: ${(e as Error).message} ${JSON.stringify(e)}`);

  const store = await openStore(`sqlite:${join(dir, 'fleetpki.db')}`);
  const keys = await KeyStore.open({ dataDir: dir, passphrase: PASSPHRASE, pkcs11Pin: PIN });
  const config = parseConfig({});
  const { authority: ca } = await Authority.init({ store, keys, config, logger, background: 'off' });
  try {
    const r = await ca.issue(await makeCsr({ subject: 'CN=device-log' }, await freshSigner()), {
      profile: 'device',
      requester: 'est:log',
    });
    assert.equal(r.status, 'issued');
    if (r.status === 'issued') await ca.revoke(r.serialHex, 'keyCompromise', { requester: 'cli:log' });
    await ca.issue(await badSignatureCsr(), { profile: 'device', requester: 'est:log' }).catch(keep);
    await ca.publishCrl();
    // A token key that cannot be opened: the error names the token, never the PIN.
    await keys.signer({ kind: 'pkcs11', uri: 'pkcs11:token=no-such-token;object=k' }).catch(keep);
    // A wrong passphrase.
    const wrong = await KeyStore.open({ dataDir: dir, passphrase: 'not-it' });
    await Authority.open({ store, keys: wrong, config, logger, background: 'off' }).catch(keep);
  } finally {
    await ca.close();
    keys.close();
  }
  const audit = JSON.stringify(await store.readAudit(0, 10_000));
  await store.close();

  assert.ok(lines.length >= 4, 'the Authority logged what it did');
  assert.ok(errors.length >= 3, errors.join('\n'));
  const files = [readFileSync(join(dir, 'fleetpki.db')).toString('latin1')];
  for (const [where, text] of [
    ['logs', lines.join('\n')],
    ['errors', errors.join('\n')],
    ['audit', audit],
    ['database', files[0]!],
  ] as const) {
    assert.equal(text.includes(PASSPHRASE), false, `passphrase found in ${where}`);
    assert.equal(text.includes(PIN), false, `PIN found in ${where}`);
  }
});
