/**
 * `fleetpki inspect`: the text rendering, like `openssl x509 -text`, made from the typed views
 * only (views.ts) — whatever the text shows, `--json` carries too.
 */
import { OID, oidName } from '../../der/oid-names.js';
import { asn1Text } from '../asn1-dump.js';
import { extensionTitle, hexLines, TextOut } from '../format.js';
import { extensionHeading, extensionValueText } from './extensions.js';
import { ocspText } from './ocsp.js';
import type {
  CertificateView,
  CrlView,
  CsrView,
  EncryptionView,
  ExtensionView,
  KdfView,
  ObjectView,
  Pkcs12View,
  PrivateKeyView,
  PublicKeyInfoView,
  PublicKeyView,
  Source,
} from './schema.js';

const TITLES: Record<ObjectView['type'], string> = {
  certificate: 'Certificate',
  csr: 'Certificate Request',
  crl: 'Certificate Revocation List',
  'private-key': 'Private Key',
  'encrypted-private-key': 'Encrypted Private Key',
  'public-key': 'Public Key',
  'ec-parameters': 'EC Parameters',
  'ocsp-response': 'OCSP Response',
  'ocsp-request': 'OCSP Request',
  pkcs12: 'PKCS#12',
};

function sourceText(s: Source): string {
  const parts: string[] = [];
  if (s.format === 'PEM') parts.push(`PEM block ${s.block}${s.label ? ` "${s.label}"` : ''}`);
  else parts.push('DER');
  if (s.container) parts.push(`${s.container} #${s.index}`);
  return parts.join(', ');
}

function hexBytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h, 'hex'));
}

const versionText = (v: number) => `${v} (0x${(v - 1).toString(16)})`;

function keyInfoText(t: TextOut, k: PublicKeyInfoView): void {
  t.field('Public Key Algorithm', oidName(k.oid) ?? k.oid);
  t.indented(() => {
    const size = k.keySize && !k.algorithm.includes(String(k.keySize)) ? ` (${k.keySize} bit)` : '';
    t.field('Key', `${k.algorithm}${size}`);
    if (k.modulus !== undefined) t.field('Modulus', hexLines(hexBytes(k.modulus), 15));
    if (k.publicExponent !== undefined) {
      const e = BigInt(k.publicExponent);
      t.field('Exponent', `${e} (0x${e.toString(16)})`);
    }
    if (k.publicKey !== undefined) t.field('pub', hexLines(hexBytes(k.publicKey), 15));
    t.field('SPKI SHA-256', k.spkiSha256);
  });
}

function extensionsText(t: TextOut, title: string, exts: readonly ExtensionView[]): void {
  if (exts.length === 0) return;
  t.line(`${title}:`);
  t.indented(() => {
    for (const x of exts) {
      t.line(extensionHeading(x));
      t.indented(() => {
        for (const l of extensionValueText(x)) t.line(l);
      });
    }
  });
}

function signatureText(t: TextOut, o: CertificateView | CsrView | CrlView): void {
  t.field('Signature Algorithm', o.signatureAlgorithm.name);
  t.field('Signature Value', hexLines(hexBytes(o.signatureValue)));
  t.line('Fingerprints:');
  t.indented(() => {
    t.line(`SHA-1:   ${o.fingerprints.sha1}`);
    t.line(`SHA-256: ${o.fingerprints.sha256}`);
  });
}

function certificateText(t: TextOut, o: CertificateView): void {
  t.field('Version', versionText(o.version));
  t.field('Serial Number', o.serialNumber);
  t.field('Signature Algorithm', o.signatureAlgorithm.name);
  t.field('Issuer', o.issuer || '(empty)');
  t.line('Validity:');
  t.indented(() => {
    t.line(`Not Before: ${o.validity.notBefore}`);
    t.line(`Not After:  ${o.validity.notAfter} (${o.validity.remaining})`);
  });
  t.field('Subject', o.subject || '(empty)');
  if (o.selfIssued) t.line('(self-issued: issuer and subject are the same name)');
  t.line('Subject Public Key Info:');
  t.indented(() => keyInfoText(t, o.subjectPublicKeyInfo));
  if (o.issuerUniqueID) t.field('Issuer Unique ID', o.issuerUniqueID);
  if (o.subjectUniqueID) t.field('Subject Unique ID', o.subjectUniqueID);
  extensionsText(t, 'X509v3 extensions', o.extensions);
  signatureText(t, o);
}

const SIGNATURE_STATUS: Record<CsrView['signature']['status'], string> = {
  valid: 'valid (the request is signed by the key it carries)',
  invalid: 'INVALID (not signed by the key it carries; a CA must refuse it)',
  'not-checked': 'not checked',
};

function csrText(t: TextOut, o: CsrView): void {
  t.field('Version', versionText(o.version));
  t.field('Subject', o.subject || '(empty)');
  t.line('Subject Public Key Info:');
  t.indented(() => keyInfoText(t, o.subjectPublicKeyInfo));
  t.line(`Attributes:${o.attributes.length ? '' : ' (none)'}`);
  t.indented(() => {
    for (const a of o.attributes) {
      if (a.type === OID.extensionRequest) t.line('extensionRequest: (below)');
      else if (a.type === OID.challengePassword) t.line('challengePassword: present (value not shown)');
      else t.line(`${a.name ?? a.type}: ${a.values} value(s)`);
    }
  });
  extensionsText(t, 'Requested Extensions', o.extensions);
  const s = o.signature;
  t.field(
    'Signature Check',
    `${SIGNATURE_STATUS[s.status]}${s.reason && s.status !== 'invalid' ? `: ${s.reason}` : ''}`,
  );
  signatureText(t, o);
}

function crlText(t: TextOut, o: CrlView): void {
  t.field('Version', versionText(o.version));
  t.field('Signature Algorithm', o.signatureAlgorithm.name);
  t.field('Issuer', o.issuer || '(empty)');
  t.field('This Update', o.thisUpdate);
  t.field('Next Update', o.nextUpdate ? `${o.nextUpdate} (${o.nextUpdateStatus})` : 'NONE');
  extensionsText(t, 'CRL extensions', o.extensions);
  const rev = o.revokedCertificates;
  t.line(rev.length ? `Revoked Certificates (${rev.length}):` : 'No Revoked Certificates.');
  t.indented(() => {
    for (const e of rev) {
      t.line(`Serial Number: ${e.serialNumber}`);
      t.indented(() => {
        t.line(`Revocation Date: ${e.revocationDate}`);
        for (const x of e.extensions ?? []) {
          const lines = extensionValueText(x);
          if (lines.length === 1)
            t.line(`${extensionTitle(x.oid)}${x.critical ? ' (critical)' : ''}: ${lines[0]}`);
          else {
            t.line(extensionHeading(x));
            t.indented(() => {
              for (const l of lines) t.line(l);
            });
          }
        }
      });
    }
  });
  signatureText(t, o);
}

function kdfText(k: KdfView): string {
  switch (k.name) {
    case 'PBKDF2':
      return `PBKDF2 (${k.prf}, ${k.iterations} iterations, ${k.saltLength}-byte salt)`;
    case 'scrypt':
      return `scrypt (N=${k.N}, r=${k.r}, p=${k.p}, ${k.saltLength}-byte salt)`;
    case 'PKCS#12 KDF':
      return `PKCS#12 KDF (${k.hash}, ${k.iterations} iterations, ${k.saltLength}-byte salt)`;
  }
}

function encryptionText(t: TextOut, e: EncryptionView): void {
  t.field('Scheme', e.scheme);
  if (e.kdf) t.field('Key Derivation', kdfText(e.kdf));
  if (e.cipher) t.field('Cipher', e.cipher);
  if (e.unsupported) t.field('Note', e.unsupported);
}

function privateKeyText(t: TextOut, o: PrivateKeyView): void {
  t.field('Format', o.format);
  t.field('Algorithm', o.algorithm);
  if (o.keySize !== undefined) t.field('Key Size', `${o.keySize} bit`);
  if (o.curve !== undefined) t.field('Curve', o.curve);
  if (o.publicExponent !== undefined) t.field('Public Exponent', o.publicExponent);
  t.field('Public Key Included', o.publicKeyIncluded ? 'yes' : 'no');
  if (o.spkiSha256 !== undefined) t.field('SPKI SHA-256', o.spkiSha256);
}

function publicKeyText(t: TextOut, o: PublicKeyView): void {
  t.field('Format', o.format);
  t.field('Algorithm', o.algorithm);
  if (o.keySize !== undefined) t.field('Key Size', `${o.keySize} bit`);
  if (o.curve !== undefined) t.field('Curve', o.curve);
  if (o.oid !== undefined) t.field('OID', o.oid);
  if (o.publicExponent !== undefined) t.field('Public Exponent', o.publicExponent);
  if (o.modulus !== undefined) t.field('Modulus', hexLines(hexBytes(o.modulus), 15));
  if (o.publicKey !== undefined) t.field('Public Key', hexLines(hexBytes(o.publicKey), 15));
  t.field('SPKI SHA-256', o.spkiSha256);
}

function pkcs12Text(t: TextOut, o: Pkcs12View): void {
  t.field(
    'Status',
    o.status === 'verified' ? 'MAC verified, contents decrypted' : 'locked (no password given)',
  );
  if (o.mac)
    t.field(
      'MAC',
      `${o.mac.algorithm} (${o.mac.kdf}, ${o.mac.iterations} iterations, ${o.mac.saltLength}-byte salt)`,
    );
  else t.field('MAC', 'none');
  o.contents.forEach((c, i) => {
    t.line(`Contents #${i + 1}:${c.encryption ? '' : ' not encrypted'}`);
    t.indented(() => {
      if (c.encryption) encryptionText(t, c.encryption);
      if (c.bags) t.field('Bags', c.bags.join(', '));
    });
  });
  if (o.note) t.field('Note', o.note);
}

function objectText(t: TextOut, o: ObjectView): void {
  t.line(`${TITLES[o.type]} [${sourceText(o.source)}]`);
  t.indented(() => {
    switch (o.type) {
      case 'certificate':
        certificateText(t, o);
        break;
      case 'csr':
        csrText(t, o);
        break;
      case 'crl':
        crlText(t, o);
        break;
      case 'ocsp-response':
      case 'ocsp-request':
        ocspText(
          o,
          (l) => t.line(l),
          (fn) => t.indented(fn),
        );
        break;
      case 'private-key':
        privateKeyText(t, o);
        break;
      case 'encrypted-private-key':
        t.field('Format', o.format);
        t.line('Encryption:');
        t.indented(() => encryptionText(t, o.encryption));
        break;
      case 'public-key':
        publicKeyText(t, o);
        break;
      case 'ec-parameters':
        t.field('Curve', o.curve);
        t.field('OID', o.oid);
        break;
      case 'pkcs12':
        pkcs12Text(t, o);
        break;
    }
    const tree = o.asn1;
    if (tree) {
      t.line('ASN.1:');
      t.indented(() => {
        for (const l of asn1Text(tree)) t.line(l);
      });
    }
  });
}

/** The text for one object (the CLI writes objects one at a time). */
export function objectViewText(o: ObjectView): string {
  const t = new TextOut();
  objectText(t, o);
  return t.toString();
}

/** The header line of a file with several objects. */
export function filesHeaderText(file: string, count: number): string {
  return count > 1 ? `${file}: ${count} objects\n\n` : '';
}
