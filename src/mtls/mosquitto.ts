import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { decodePem, encodePem } from '../pem/pem.js';
import { type Certificate, parseCertificate } from '../x509/certificate.js';
import { type CertificateList, parseCrl } from '../x509/crl.js';
import { buildAcl, type TopicLayout } from './acl.js';
import { MtlsError } from './errors.js';

/**
 * A Mosquitto 2.0 configuration that `mosquitto -c DIR/mosquitto.conf` runs as is: one mTLS
 * listener (RECIPES §4) where
 * - the broker presents its certificate and chain (`certfile`, `keyfile` 0600);
 * - every client must present a certificate (`require_certificate true`) that chains to the
 *   anchors in `cafile` — the root(s): devices send leaf + intermediate — and is not on the
 *   issuing CA's CRL (`crlfile`; Mosquitto checks the leaf only, and re-reads the file on SIGHUP:
 *   see CrlFileKeeper, which keeps it fresh);
 * - the client's username is its certificate's CN (`use_identity_as_username true`), no
 *   anonymous access, and the ACL (`acl_file`, acl.ts) confines each device to its own tree.
 * `user` is the current user: run as root, Mosquitto would otherwise drop to user `mosquitto`
 * before reading the 0600 key (RECIPES §4); run as anyone else, the line has no effect.
 *
 *   const files = writeBrokerConfig({ dir: 'broker', port: 8883, serverChain: certPem + intPem,
 *     serverKey: keyPem, clientCas: rootPem, crls: [crlDer], layout: { deviceRoot: 'devices' } });
 *   // mosquitto -c broker/mosquitto.conf
 */
export interface BrokerConfigOptions {
  /** Output directory (created). */
  dir: string;
  port: number;
  /** Listener address. Default 127.0.0.1. */
  host?: string;
  /** The broker's certificate followed by its chain (PEM text, or certificates). */
  serverChain: string | readonly Certificate[];
  /** The broker's private key, unencrypted PEM (Mosquitto cannot prompt for a passphrase). */
  serverKey: string;
  /** Anchors for client certificates (PEM text, or certificates): the root(s) of the fleet. */
  clientCas: string | readonly Certificate[];
  /** The CRLs of the CAs that issue client certificates (at least one: Mosquitto needs the file to exist). */
  crls: readonly (Uint8Array | CertificateList)[];
  /** Topic layout for the ACL. */
  layout?: TopicLayout;
  /** Minimum TLS version (Mosquitto 2.0's `tls_version` is a minimum). Default `tlsv1.2`. */
  tlsVersion?: 'tlsv1.2' | 'tlsv1.3';
  /** More configuration lines, appended as is (e.g. `max_connections 2000`). */
  extra?: readonly string[];
}

/** The paths written. */
export interface BrokerConfigFiles {
  conf: string;
  cert: string;
  key: string;
  cafile: string;
  crlfile: string;
  acl: string;
}

function certsPem(input: string | readonly Certificate[], what: string): string {
  const certs =
    typeof input === 'string'
      ? decodePem(input)
          .filter((b) => b.label === 'CERTIFICATE')
          .map((b) => parseCertificate(b.der))
      : input;
  if (certs.length === 0) throw new MtlsError('bad-configuration', `${what}: no certificate`);
  return certs.map((c) => encodePem('CERTIFICATE', c.der)).join('');
}

/** A value that can stand in a mosquitto.conf line (the format has no quoting). */
function confValue(v: string, what: string): string {
  if (!/^[^\s#]+$/.test(v))
    throw new MtlsError('bad-configuration', `${what} "${v}" cannot be written to mosquitto.conf`);
  return v;
}

/** Writes DIR/mosquitto.conf and the files it names (see the header); returns their paths. */
export function writeBrokerConfig(o: BrokerConfigOptions): BrokerConfigFiles {
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)
    throw new MtlsError('bad-configuration', `bad port ${o.port}`);
  const host = o.host ?? '127.0.0.1';
  if (!isIP(host) && !/^[A-Za-z0-9.-]+$/.test(host))
    throw new MtlsError('bad-configuration', `bad listener address ${host}`);
  if (o.crls.length === 0) throw new MtlsError('bad-configuration', 'at least one CRL is needed for crlfile');
  if (!/-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(o.serverKey))
    throw new MtlsError('bad-configuration', 'serverKey must be an unencrypted PEM private key');
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const files: BrokerConfigFiles = {
    conf: join(dir, 'mosquitto.conf'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    cafile: join(dir, 'ca.crt'),
    crlfile: join(dir, 'crl.pem'),
    acl: join(dir, 'acl'),
  };
  for (const p of Object.values(files)) confValue(p, 'path');
  const crlPem = o.crls
    .map((c) => {
      try {
        return encodePem('X509 CRL', (c instanceof Uint8Array ? parseCrl(c) : c).der);
      } catch (e) {
        throw new MtlsError('bad-configuration', `not a CRL: ${(e as Error).message}`, { cause: e });
      }
    })
    .join('');
  const acl = buildAcl(o.layout);

  writeFileSync(files.cert, certsPem(o.serverChain, 'serverChain'));
  writeFileSync(files.key, o.serverKey, { mode: 0o600 });
  chmodSync(files.key, 0o600);
  writeFileSync(files.cafile, certsPem(o.clientCas, 'clientCas'));
  writeFileSync(files.crlfile, crlPem);
  writeFileSync(files.acl, acl);
  const lines = [
    '# Generated by fleetpki (writeBrokerConfig). Run: mosquitto -c ' + files.conf,
    `user ${confValue(userInfo().username, 'user')}`,
    'per_listener_settings false',
    'persistence false',
    'allow_anonymous false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    `acl_file ${files.acl}`,
    '',
    `listener ${o.port} ${host}`,
    `certfile ${files.cert}`,
    `keyfile ${files.key}`,
    '# client certificates: required, chained to these anchors, leaf checked against the CRL',
    `cafile ${files.cafile}`,
    'require_certificate true',
    'use_identity_as_username true',
    `crlfile ${files.crlfile}`,
    `tls_version ${o.tlsVersion ?? 'tlsv1.2'}`,
    ...(o.extra ?? []).map((l) => {
      if (/[\r\n]/.test(l)) throw new MtlsError('bad-configuration', 'an extra line contains a line break');
      return l;
    }),
  ];
  writeFileSync(files.conf, `${lines.join('\n')}\n`);
  return files;
}
