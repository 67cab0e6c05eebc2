// Acceptance 2 (issue 2): for every certificate of the Debian bundle, subject, issuer, serial,
// notBefore/notAfter, SAN, keyUsage, extKeyUsage and basicConstraints equal what
//   openssl x509 -noout -subject -issuer -serial -dates -ext … -nameopt RFC2253
// prints, after normalising both sides to the same vocabulary (names as lists of (type, value)
// with escapes resolved; extensions in OpenSSL's words, as `fleetpki inspect` prints them).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { ekuTitle, KEY_USAGE_TITLES } from '../../src/cli/format.js';
import { generalNameJson, generalNameText } from '../../src/cli/inspect/extensions.js';
import { OID } from '../../src/der/index.js';
import { attributeShortName, type Certificate, parseCertificate } from '../../src/x509/index.js';
import { debianCertificates } from './corpus.js';

const EXTS = 'subjectAltName,keyUsage,extendedKeyUsage,basicConstraints';

function opensslX509(der: Uint8Array): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = execFile(
      'openssl',
      [
        'x509',
        '-inform',
        'DER',
        '-noout',
        '-subject',
        '-issuer',
        '-serial',
        '-dates',
        '-ext',
        EXTS,
        '-nameopt',
        'RFC2253',
      ],
      { encoding: 'latin1' },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException;
          reject(
            new Error(
              e.code === 'ENOENT'
                ? 'openssl not found on PATH (CI installs it)'
                : `openssl: ${stderr || e.message}`,
            ),
          );
        } else resolve(stdout);
      },
    );
    p.stdin!.end(Buffer.from(der));
  });
}

/** Runs `fn` over items with at most `n` in flight. */
async function pool<T, R>(items: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// ---- normalising names ----

/** OpenSSL short names that differ from ours (ours → OpenSSL's, lower case). */
const TYPE_ALIASES: Record<string, string> = {
  street: 'street',
  gn: 'givenname',
  jurisdictionc: 'jurisdictionc',
};

/**
 * RFC 2253/4514 text → [[type, value], …] per RDN, most significant last (the text order), with
 * escapes resolved: `\,` style and `\XX` hex (OpenSSL's RFC2253 mode hex-escapes UTF-8 bytes).
 */
function splitDn(s: string): string[][] {
  const rdns: string[][] = [];
  let rdn: string[] = [];
  let cur = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) {
      cur += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const h = s.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(h)) {
        bytes.push(Number.parseInt(h, 16));
        i += 2;
      } else {
        flush();
        cur += s[i + 1];
        i++;
      }
      continue;
    }
    flush();
    if (c === ',' || c === '+') {
      rdn.push(cur);
      cur = '';
      if (c === ',') {
        rdns.push(rdn);
        rdn = [];
      }
      continue;
    }
    cur += c;
  }
  flush();
  rdn.push(cur);
  rdns.push(rdn);
  return rdns.map((r) =>
    r
      .map((atv) => {
        const eq = atv.indexOf('=');
        const t = atv.slice(0, eq).toLowerCase();
        return `${TYPE_ALIASES[t] ?? t}=${atv.slice(eq + 1)}`;
      })
      .sort(),
  );
}

function ourDn(c: Certificate, which: 'subject' | 'issuer'): string[][] {
  return splitDn(c[which].toString());
}

// ---- normalising extensions (OpenSSL's words) ----

interface ExtText {
  critical: boolean;
  text: string;
}

/**
 * OpenSSL prints a SAN directoryName in its slash form, most significant first
 * (`DirName:/O=x/street=y`); ours is RFC 4514 (`DirName:STREET=y,O=x`).
 */
function dirNameTo4514(text: string): string {
  return text.replace(
    /DirName:((?:\/[^/=]+=[^/,]*)+)/g,
    (_, path: string) =>
      'DirName:' +
      path
        .split('/')
        .filter((p) => p !== '')
        .reverse()
        .map((atv) => atv.replace(/^street=/, 'STREET='))
        .join(','),
  );
}

function parseExtensions(out: string): Map<string, ExtText> {
  const m = new Map<string, ExtText>();
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^X509v3 (.+?):( critical)?\s*$/.exec(lines[i]!);
    if (!h) continue;
    const body: string[] = [];
    while (i + 1 < lines.length && /^\s{4}/.test(lines[i + 1]!)) body.push(lines[++i]!.trim());
    m.set(h[1]!, { critical: h[2] !== undefined, text: dirNameTo4514(body.join(' ')) });
  }
  return m;
}

function ourExtensions(c: Certificate): Map<string, ExtText> {
  const m = new Map<string, ExtText>();
  const crit = (oid: string) => c.extension(oid)!.critical;
  const bc = c.basicConstraints;
  if (bc)
    m.set('Basic Constraints', {
      critical: crit(OID.basicConstraints),
      text: `CA:${bc.cA ? 'TRUE' : 'FALSE'}${bc.pathLenConstraint !== undefined ? `, pathlen:${bc.pathLenConstraint}` : ''}`,
    });
  const ku = c.keyUsage;
  if (ku)
    m.set('Key Usage', {
      critical: crit(OID.keyUsage),
      text: Object.entries(ku)
        .filter(([, on]) => on)
        .map(([k]) => KEY_USAGE_TITLES[k])
        .join(', '),
    });
  const eku = c.extKeyUsage;
  if (eku)
    m.set('Extended Key Usage', { critical: crit(OID.extKeyUsage), text: eku.map(ekuTitle).join(', ') });
  const san = c.subjectAltName;
  if (san)
    m.set('Subject Alternative Name', {
      critical: crit(OID.subjectAltName),
      text: san.map((g) => generalNameText(generalNameJson(g))).join(', '),
    });
  return m;
}

// ---- dates ----

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** OpenSSL's `Sep  1 12:00:00 1998 GMT`. */
function opensslDate(s: string): number {
  const m = /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d+) GMT$/.exec(s.trim());
  if (!m) throw new Error(`unexpected OpenSSL date "${s}"`);
  return Date.UTC(
    Number(m[6]),
    MONTHS.indexOf(m[1]!),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
  );
}

function field(out: string, key: string): string {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(out);
  if (!m) throw new Error(`no ${key}= line in:\n${out}`);
  return m[1]!;
}

describe('Debian bundle: fields equal what openssl x509 prints', async () => {
  const certs = debianCertificates();
  const outs = await pool(certs, 4, (c) => opensslX509(c.der));
  it('the bundle is not empty', () => assert.ok(certs.length >= 100));
  certs.forEach((item, i) => {
    const c = parseCertificate(item.der);
    const out = outs[i]!;
    it(`${item.id} ${c.subject.commonName ?? c.subject.toString()}`, () => {
      assert.deepEqual(ourDn(c, 'subject'), splitDn(field(out, 'subject')), 'subject');
      assert.deepEqual(ourDn(c, 'issuer'), splitDn(field(out, 'issuer')), 'issuer');
      assert.equal(c.serialHex.toUpperCase(), field(out, 'serial'), 'serial');
      assert.equal(c.notBefore, opensslDate(field(out, 'notBefore')), 'notBefore');
      assert.equal(c.notAfter, opensslDate(field(out, 'notAfter')), 'notAfter');
      assert.deepEqual(
        Object.fromEntries(ourExtensions(c)),
        Object.fromEntries(parseExtensions(out)),
        'extensions',
      );
    });
  });
});

// attributeShortName is what Name.toString uses; keep the alias table honest.
it('type aliases cover our short names that OpenSSL spells differently', () => {
  assert.equal(attributeShortName(OID.streetAddress).toLowerCase(), 'street');
});
