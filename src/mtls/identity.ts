import type { CryptoProvider } from '../crypto/provider.js';
import { toHex } from '../der/bytes.js';
import { formatIpAddress } from '../verify/names.js';
import type { Certificate } from '../x509/certificate.js';

/**
 * Who is on the other end of a verified mutual-TLS connection: the leaf's names and serial, and
 * the chain our path validation accepted (leaf first, trust anchor last). Names come from the
 * certificate as validated — SAN URIs, DNS names, IP addresses and emails, plus the subject —
 * so the application can authorise by them (e.g. a device id in a SAN URI, RFC 9525 §6.1 style:
 * SAN over CN). Computed once per connection; the fingerprint lazily.
 */
export class PeerIdentity {
  private fp?: string;

  constructor(
    /** The validated path, leaf first, the trust anchor last. */
    readonly chain: readonly Certificate[],
    private readonly crypto: CryptoProvider,
  ) {}

  /** The peer's own certificate. */
  get certificate(): Certificate {
    return this.chain[0]!;
  }

  /** The subject as RFC 4514 text. */
  get subject(): string {
    return this.certificate.subject.toString();
  }

  /** The subject's (last) commonName, if any. */
  get commonName(): string | undefined {
    return this.certificate.subject.commonName;
  }

  /** subjectAltName uniformResourceIdentifier values. */
  get uris(): string[] {
    return this.san('uniformResourceIdentifier');
  }

  /** subjectAltName dNSName values. */
  get dnsNames(): string[] {
    return this.san('dNSName');
  }

  /** subjectAltName rfc822Name values. */
  get emails(): string[] {
    return this.san('rfc822Name');
  }

  /** subjectAltName iPAddress values as text (dotted IPv4, RFC 5952 IPv6). */
  get ipAddresses(): string[] {
    const out: string[] = [];
    for (const g of this.certificate.subjectAltName ?? [])
      if (g.type === 'iPAddress') out.push(formatIpAddress(g.value));
    return out;
  }

  /** The serial number, lower-case hex of its INTEGER content (no sign octet). */
  get serialHex(): string {
    return this.certificate.serialHex;
  }

  /** SHA-256 of the leaf's DER, lower-case hex (what `openssl x509 -fingerprint -sha256` shows, without colons). */
  get fingerprint256(): string {
    this.fp ??= toHex(this.crypto.digest('SHA-256', this.certificate.der));
    return this.fp;
  }

  /** The issuer of the leaf (the next certificate of the path). */
  get issuer(): Certificate {
    return this.chain[1] ?? this.chain[0]!;
  }

  get notAfter(): number {
    return this.certificate.notAfter;
  }

  /** A plain summary for logs and JSON. */
  toJSON(): Record<string, unknown> {
    return {
      subject: this.subject,
      uris: this.uris,
      dnsNames: this.dnsNames,
      ipAddresses: this.ipAddresses,
      emails: this.emails,
      serial: this.serialHex,
      fingerprint256: this.fingerprint256,
      notAfter: new Date(this.notAfter).toISOString(),
      chain: this.chain.map((c) => c.subject.toString()),
    };
  }

  private san(type: 'uniformResourceIdentifier' | 'dNSName' | 'rfc822Name'): string[] {
    const out: string[] = [];
    for (const g of this.certificate.subjectAltName ?? []) if (g.type === type) out.push(g.value);
    return out;
  }
}
