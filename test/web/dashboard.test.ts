// The dashboard in a real browser: Debian's Chromium driven by playwright-core against the real
// `fleetpki serve` (a child process on 127.0.0.1:0, fresh data dir, serving a fresh build of
// src/web/). One browser for the whole file. Throughout, every console error, uncaught page error,
// CSP violation (`securitypolicyviolation`) and request to another origin is recorded, and the last
// test requires there were none. Screenshots of each view go to .tmp/screenshots/.
// clock-shift: skip — what this file tests runs in child processes, which keep the real clock
// (scripts/test.sh --clock-sensitive leaves it out: shifting this process's clock tests nothing).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { CaList, CertificatePage, type IssueResponse } from '../../src/server/api/schemas.js';
import { parseCertificates } from '../../src/x509/certificate.js';
import { run } from '../helpers/proc.js';
import { api, request } from '../server/helpers.js';
import {
  buildToTemp,
  CHROMIUM,
  CHROMIUM_ARGS,
  type DashboardService,
  issue,
  pngInfo,
  screenshotDir,
  startDashboardService,
} from './support.js';

const DAY = 86_400_000;
/** A profile whose requests wait for an admin (the enrollment view's approvals). */
const CONFIG = 'profiles:\n  sensor: { extKeyUsage: [clientAuth], approval: manual }\n';

/** A locator's text ('' when the element has none). */
async function text(l: Locator): Promise<string> {
  return (await l.textContent()) ?? '';
}

interface Problem {
  page: string;
  kind: 'console' | 'pageerror' | 'csp' | 'foreign-request';
  text: string;
}

describe('dashboard in Chromium', () => {
  let assets: string;
  let svc: DashboardService;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const problems: Problem[] = [];
  const shots = screenshotDir();
  let issued: Extract<IssueResponse, { status: 'issued' }>;
  let work: string;

  /** Records what must never happen on our pages. */
  async function watch(c: BrowserContext, label: string): Promise<void> {
    await c.exposeBinding('__fleetpkiCspViolation', ({ page: p }, text: string) => {
      problems.push({ page: `${label} ${p.url()}`, kind: 'csp', text });
    });
    await c.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const report = (window as unknown as { __fleetpkiCspViolation: (t: string) => void })
          .__fleetpkiCspViolation;
        report(`${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    c.on('page', (p) => track(p, label));
  }

  function track(p: Page, label: string): void {
    p.on('console', (m) => {
      if (m.type() === 'error')
        problems.push({ page: `${label} ${p.url()}`, kind: 'console', text: m.text() });
    });
    p.on('pageerror', (e) =>
      problems.push({ page: `${label} ${p.url()}`, kind: 'pageerror', text: e.message }),
    );
    p.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${svc.url}/`) && u !== 'about:blank')
        problems.push({ page: `${label} ${p.url()}`, kind: 'foreign-request', text: u });
    });
  }

  /** Waits until the view has its data (no spinner left, no request in flight). */
  async function settled(p: Page = page): Promise<void> {
    await p.waitForLoadState('networkidle');
    await p.waitForFunction(() => document.querySelectorAll('.loading').length === 0);
  }

  /** No serious or critical WCAG 2.1 A/AA violation on the page as it is. */
  async function accessible(p: Page, name: string): Promise<void> {
    const r = await new AxeBuilder({ page: p })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      // Legacy mode runs axe in the page itself (no extra blank page per run; the pages have no frames).
      .setLegacyMode(true)
      .analyze();
    const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      bad.map(
        (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      ),
      [],
      `${name}: accessibility`,
    );
    assert.ok(r.passes.length > 10, `${name}: axe ran its checks`);
  }

  /** A full-page screenshot, checked to be a real render of a view with content. */
  async function screenshot(p: Page, name: string, heading: string): Promise<void> {
    const path = join(shots, `${name}.png`);
    await p.screenshot({ path, fullPage: true });
    const png = pngInfo(path);
    assert.ok(png.ok, `${name}: a PNG`);
    assert.ok(png.width >= 1000 && png.height >= 600, `${name}: ${png.width}×${png.height}`);
    assert.ok(png.bytes > 15_000, `${name}: ${png.bytes} bytes is too small for a rendered view`);
    const main = await text(p.locator('main'));
    assert.ok(main.includes(heading), `${name}: the main landmark shows "${heading}"`);
    assert.ok(main.trim().length > 80, `${name}: the main landmark has content`);
  }

  async function ocspStatus(leaf: string, chainPem: string): Promise<string> {
    const chain = parseCertificates(chainPem);
    writeFileSync(join(work, 'leaf.pem'), leaf);
    writeFileSync(join(work, 'int.pem'), chain[0]!.toPem());
    writeFileSync(join(work, 'root.pem'), chain.at(-1)!.toPem());
    const f = (n: string) => join(work, n);
    const q = await run('openssl', [
      'ocsp',
      '-issuer',
      f('int.pem'),
      '-cert',
      f('leaf.pem'),
      '-no_nonce',
      '-reqout',
      f('req.der'),
    ]);
    assert.equal(q.code, 0, q.stderr);
    // OpenSSL 3.0's ocsp client speaks plain HTTP only: curl carries its request over HTTPS.
    const post = await run('curl', [
      '-sS',
      '--fail',
      '--cacert',
      f('root.pem'),
      '-H',
      'Content-Type: application/ocsp-request',
      '--data-binary',
      `@${f('req.der')}`,
      '-o',
      f('resp.der'),
      `${svc.url}/ocsp`,
    ]);
    assert.equal(post.code, 0, post.stderr);
    const a = await run('openssl', [
      'ocsp',
      '-respin',
      f('resp.der'),
      '-issuer',
      f('int.pem'),
      '-cert',
      f('leaf.pem'),
      '-CAfile',
      f('root.pem'),
      '-no_nonce',
    ]);
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.match(a.stderr, /Response verify OK/);
    return a.stdout;
  }

  before(async () => {
    mkdirSync(shots, { recursive: true });
    assets = await buildToTemp();
    svc = await startDashboardService(assets, CONFIG);
    work = join(svc.dir, 'work');
    mkdirSync(work);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1360, height: 900 } });
    await watch(ctx, 'admin');
    page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    // A request held for approval, for the enrollment view.
    const held = await issue(svc, { subject: 'CN=sensor-0001', profile: 'sensor' });
    assert.equal(held.status, 'pending');
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await svc?.stop();
    if (assets) rmSync(assets, { recursive: true, force: true });
  });

  test('an anonymous browser gets the login form for every page; a wrong token is refused there', async () => {
    const anon = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1360, height: 900 },
    });
    try {
      const p = await anon.newPage();
      for (const path of ['/', '/certificates', '/hierarchy', '/expiry', '/audit', '/enrollment']) {
        const r = await p.goto(`${svc.url}${path}`);
        assert.equal(new URL(p.url()).pathname, '/login', path);
        assert.equal(new URL(p.url()).searchParams.get('next'), path);
        assert.equal(r?.status(), 200);
        assert.equal(await p.locator('#app').count(), 0, 'no application document');
      }
      const apiStatus = await p.evaluate(async () => (await fetch('/api/v1/cas')).status);
      assert.equal(apiStatus, 401);
      await accessible(p, 'login');
      await screenshot(p, 'login', 'Sign in to the dashboard');
      await p.fill('#token', `${svc.token.slice(0, -2)}xx`);
      await p.press('#token', 'Enter');
      await p.locator('#login-error').waitFor({ state: 'visible' });
      assert.match(await text(p.locator('#login-error')), /not valid/);
      assert.equal(new URL(p.url()).pathname, '/login');
    } finally {
      await anon.close();
    }
  });

  test('logging in with the admin token returns to the page asked for', async () => {
    await page.goto(`${svc.url}/certificates`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.fill('#token', svc.token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${svc.url}/certificates`);
    await page.locator('h1', { hasText: 'Certificates' }).waitFor();
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === '__Host-fleetpki-session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    assert.equal(await page.evaluate(() => document.cookie), '', 'not readable by scripts');
  });

  test('a certificate issued through the API is found in the inventory by its SAN', async () => {
    const name = `web-${Date.now().toString(36)}.fleet.example`;
    const r = await issue(svc, {
      subject: `CN=device-web-${Date.now().toString(16)}`,
      sans: [`dns:${name}`],
    });
    assert.equal(r.status, 'issued');
    issued = r as typeof issued;
    // Filler so the SAN search has something to tell apart.
    for (let i = 0; i < 3; i++)
      await issue(svc, { subject: `CN=device-filler-${i}`, sans: [`dns:filler-${i}.fleet.example`] });
    await page.click('nav >> text=Certificates');
    await settled();
    await page.fill('#f-san', `dns:${name}`);
    await page.press('#f-san', 'Enter');
    await page.waitForURL((u) => u.searchParams.get('san') === `dns:${name}`);
    await settled();
    // The URL changes before the filtered page is fetched, and the previous rows stay on screen
    // until it arrives (networkidle may be checked before the fetch starts): wait for the table to
    // settle on one row — a wrong answer still fails below, after the wait.
    const rows = page.locator('[data-testid=inventory-table] tbody tr');
    await page
      .waitForFunction(
        (serial) => {
          const tr = document.querySelectorAll('[data-testid=inventory-table] tbody tr');
          return tr.length === 1 && tr[0]!.getAttribute('data-serial') === serial;
        },
        issued.certificate.serial,
        { timeout: 10_000 },
      )
      .catch(() => undefined);
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-serial'), issued.certificate.serial);
    assert.match(await text(rows.first()), new RegExp(name.replaceAll('.', '\\.')));
  });

  test('its detail shows the decoded certificate and the chain of trust up to the root', async () => {
    await page.click(`[data-serial="${issued.certificate.serial}"] a`);
    await page.waitForURL(`**/certificates/issuing/${issued.certificate.serial}`);
    const chain = page.locator('[data-testid=chain-diagram] > li');
    await chain.first().waitFor();
    assert.equal(await chain.count(), 3);
    assert.deepEqual(await chain.evaluateAll((els) => els.map((e) => e.getAttribute('data-role'))), [
      'root',
      'intermediate',
      'leaf',
    ]);
    const cas = CaList.parse(
      (await api(svc.url, '/api/v1/cas', { token: svc.token, ca: svc.root })).json(),
    ).items;
    const certs = parseCertificates(issued.chainPem);
    const rootCa = cas.find((c) => c.role === 'root')!;
    const intCa = cas.find((c) => c.id === 'issuing')!;
    assert.equal(certs.at(-1)!.subject.toString(), rootCa.subject, 'the chain ends at the root');
    assert.ok((await text(chain.nth(0))).includes(rootCa.subject));
    assert.ok((await text(chain.nth(1))).includes(intCa.subject));
    assert.ok((await text(chain.nth(2))).includes(issued.certificate.subject));
    assert.equal((await text(page.locator('[data-testid=pem]'))).trim(), issued.pem.trim());
    const main = await text(page.locator('main'));
    for (const s of [
      'Signature algorithm',
      'ecdsa-with-SHA256',
      'EC P-256',
      'clientAuth',
      'subjectKeyIdentifier',
    ])
      assert.ok(main.includes(s), s);
    const download = page.waitForEvent('download');
    await page.click('text=Download PEM');
    const d = await download;
    assert.equal(d.suggestedFilename(), `${issued.certificate.serial}.pem`);
    assert.equal(readFileSync((await d.path())!, 'utf8').trim(), issued.pem.trim());
  });

  test('revoking it from the UI (reason, confirmation) makes OCSP answer revoked', async () => {
    assert.match(await ocspStatus(issued.pem, issued.chainPem), /leaf\.pem: good/);
    const open = page.locator('button', { hasText: 'Revoke…' });
    await open.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.locator('dialog[open]').count(), 0, 'Escape cancels');
    await open.click();
    await dialog.waitFor();
    await page.selectOption('#revoke-reason', 'keyCompromise');
    await page.click('dialog >> text=Revoke certificate');
    await page.locator('[data-testid=revoke-notice]').waitFor();
    await page.locator('.summary-bar .badge', { hasText: 'Revoked' }).waitFor();
    const out = await ocspStatus(issued.pem, issued.chainPem);
    assert.match(out, /leaf\.pem: revoked/);
    assert.match(out, /Reason: keyCompromise/);
  });

  test('the expiry chart shows the certificates seeded for it on their UTC days', async () => {
    const seeded: string[] = [];
    for (const days of [2, 9, 9, 33, 61]) {
      const r = await issue(svc, {
        subject: `CN=device-expiry-${days}-${seeded.length}`,
        validityDays: days,
      });
      assert.equal(r.status, 'issued');
      if (r.status === 'issued') seeded.push(r.certificate.notAfter);
    }
    // What the chart must show, from the certificates' own notAfter (UTC days): every valid one
    // expiring in the next 90 days.
    const now = Date.now();
    const q = `status=valid&expiresAfter=${new Date(now).toISOString()}&expiresBefore=${new Date(now + 89 * DAY).toISOString()}&limit=500`;
    const valid = CertificatePage.parse(
      (await api(svc.url, `/api/v1/certificates?${q}`, { token: svc.token, ca: svc.root })).json(),
    ).items;
    const expected = new Map<string, number>();
    for (const c of valid)
      expected.set(c.notAfter.slice(0, 10), (expected.get(c.notAfter.slice(0, 10)) ?? 0) + 1);
    await page.click('nav >> text=Expiry timeline');
    await settled();
    const days = [...new Set(seeded.map((t) => t.slice(0, 10)))];
    assert.equal(days.length, 4, 'two of the five share a day');
    for (const day of days) {
      const bar = page.locator(`[data-testid=expiry-chart] rect[data-day="${day}"]`);
      assert.equal(await bar.count(), 1, `a bar on ${day}`);
      const n = Number(await bar.getAttribute('data-count'));
      assert.equal(n, expected.get(day), `${day}: the chart says ${n}`);
      assert.ok(n >= seeded.filter((t) => t.startsWith(day)).length);
      assert.equal(
        await text(page.locator(`[data-testid=expiry-table] tr[data-day="${day}"] td.num`)),
        String(n),
      );
    }
    // The revoked certificate is not on the chart (its day has only what is still valid).
    const revokedDay = issued.certificate.notAfter.slice(0, 10);
    const bar = page.locator(`[data-testid=expiry-chart] rect[data-day="${revokedDay}"]`);
    assert.equal(
      (await bar.count()) ? Number(await bar.getAttribute('data-count')) : 0,
      expected.get(revokedDay) ?? 0,
    );
  });

  test('a held request is approved from the enrollment view', async () => {
    await page.click('nav >> text=Enrollment');
    await settled();
    const row = page.locator('[data-testid=requests-table] tbody tr', { hasText: 'sensor-0001' });
    await row.waitFor();
    await row.locator('button', { hasText: 'Approve' }).click();
    await page.locator('.notice-ok', { hasText: 'Approved' }).waitFor();
    const found = CertificatePage.parse(
      (
        await api(svc.url, '/api/v1/certificates?subject=sensor-0001', { token: svc.token, ca: svc.root })
      ).json(),
    );
    assert.equal(found.items.length, 1);
    assert.equal(found.items[0]!.profile, 'sensor');
  });

  test('a single-use EST credential made in the enrollment view enrolls one device, once', async () => {
    await page.click('nav >> text=Enrollment');
    await settled();
    await page.fill('#est-subject', 'device-est-ui');
    await page
      .locator('form[aria-label="New EST credential"] button', { hasText: 'Create credential' })
      .click();
    const secret = (await text(page.locator('.secret'))).trim();
    const colon = secret.indexOf(':');
    assert.ok(colon > 0 && colon < secret.length - 1, secret);
    const row = page.locator('tr', { hasText: secret.slice(0, colon) });
    await row.waitFor();
    assert.match(await text(row), /device-est-ui.*unused/s);
    // The device side, as RFC 7030 §3.2.3 has it: HTTP Basic over TLS, a base64 CSR.
    const makeCsr = async () =>
      (
        await new CsrBuilder()
          .subject('CN=device-est-ui')
          .sign(await KeySigner.create((await generateKeyPair('ec-p256')).privateKey))
      ).der;
    const enroll = (der: Uint8Array) =>
      request(`${svc.url}/.well-known/est/simpleenroll`, {
        ca: svc.root,
        headers: {
          'content-type': 'application/pkcs10',
          authorization: `Basic ${Buffer.from(secret).toString('base64')}`,
        },
        body: `${Buffer.from(der).toString('base64')}\n`,
      });
    const csr = await makeCsr();
    const first = await enroll(csr);
    assert.equal(first.status, 200, first.text);
    // The same request again is a retry (its answer was lost): the same certificate, not a new one.
    const retry = await enroll(csr);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.text, first.text);
    const other = await enroll(await makeCsr());
    assert.equal(other.status, 401, 'a single-use credential enrolls one request');
    await page.reload();
    await settled();
    await page
      .locator('tr', { hasText: secret.slice(0, colon) })
      .filter({ hasText: 'used' })
      .waitFor();
  });

  test('publishing a CRL from the hierarchy view raises its number', async () => {
    await page.click('nav >> text=CA hierarchy');
    await settled();
    const number = page.locator('[data-testid=crl-number-issuing]');
    const before = BigInt(await text(number));
    await page.locator('[data-testid=ca-issuing] button', { hasText: 'Publish CRL now' }).click();
    await page.locator('[data-testid=ca-issuing] [role=status]', { hasText: 'published' }).waitFor();
    await page.waitForFunction(
      (b) => BigInt(document.querySelector('[data-testid=crl-number-issuing]')!.textContent!) > BigInt(b),
      before.toString(),
    );
  });

  test('keyboard: skip link first, then the navigation; a view opened by keyboard gets the focus', async () => {
    await page.goto(`${svc.url}/`);
    await settled();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    assert.deepEqual(order, [
      'Overview',
      'Certificates',
      'CA hierarchy',
      'Expiry timeline',
      'Audit log',
      'Enrollment',
    ]);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // CA hierarchy
    await page.waitForURL(`${svc.url}/hierarchy`);
    await page.waitForFunction(() => document.activeElement?.id === 'page-title');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'CA hierarchy');
  });

  test('every view: no serious accessibility violation, a screenshot with content', async () => {
    const views: [string, string, string][] = [
      ['overview', '/', 'Overview'],
      ['certificates', '/certificates', 'Certificates'],
      ['certificate', `/certificates/issuing/${issued.certificate.serial}`, 'Chain of trust'],
      ['hierarchy', '/hierarchy', 'CA hierarchy'],
      ['expiry', '/expiry', 'Expiry timeline'],
      ['audit', '/audit', 'Audit log'],
      ['enrollment', '/enrollment', 'Enrollment'],
    ];
    for (const [name, path, heading] of views) {
      await page.goto(`${svc.url}${path}`);
      await settled();
      assert.equal(new URL(page.url()).pathname, path);
      await accessible(page, name);
      await screenshot(page, name, heading);
    }
    await page.goto(`${svc.url}/audit`);
    await page.locator('[data-testid=audit-verified]').waitFor();
    assert.match(await text(page.locator('[data-testid=audit-verified]')), /Hash chain verified/);
    // The verification and the records are two fetches: the banner can be there before the
    // table (1 run in 15 read an empty one). Wait for each action's row, then say what was there.
    await settled();
    const actions = page.locator('[data-testid=audit-table] tbody tr td:nth-child(4) strong');
    for (const a of ['dashboard-login', 'revoke', 'approve']) {
      const found = await actions
        .filter({ hasText: new RegExp(`^${a}$`) })
        .first()
        .waitFor({ timeout: 10_000 })
        .then(
          () => true,
          () => false,
        );
      assert.ok(found, `${a} in ${await actions.allTextContents()}`);
    }
  });

  test('an admin client certificate in the browser opens the dashboard without a login', async () => {
    const certCtx = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1360, height: 900 },
      clientCertificates: [
        {
          origin: svc.url,
          certPath: join(svc.dataDir, 'admin', 'admin.crt'),
          keyPath: join(svc.dataDir, 'admin', 'admin.key'),
        },
      ],
    });
    try {
      await watch(certCtx, 'client-certificate');
      const p = await certCtx.newPage();
      await p.goto(`${svc.url}/hierarchy`);
      await settled(p);
      assert.equal(new URL(p.url()).pathname, '/hierarchy');
      assert.match(await text(p.locator('.who-name')), /fleetpki-admin/);
      await p.locator('[data-testid=ca-issuing] button', { hasText: 'Publish CRL now' }).click();
      await p.locator('[data-testid=ca-issuing] [role=status]', { hasText: 'published' }).waitFor();
    } finally {
      await certCtx.close();
    }
  });

  test('signing out ends the session', async () => {
    await page.goto(`${svc.url}/`);
    await settled();
    await page.click('text=Sign out');
    await page.waitForURL(`${svc.url}/login`);
    await page.goto(`${svc.url}/expiry`);
    assert.equal(new URL(page.url()).pathname, '/login');
  });

  test('no CSP violation, console error, page error or request to another origin on any page', () => {
    assert.deepEqual(
      problems.map((p) => `${p.kind} on ${p.page}: ${p.text}`),
      [],
    );
  });
});
