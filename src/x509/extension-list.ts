import type { DerReader } from '../der/reader.js';
import type { DerWriter } from '../der/writer.js';
import { X509Error } from './errors.js';
import { decodeExtension } from './extensions/registry.js';
import type { Extension } from './extensions/types.js';

/**
 * RFC 5280 §4.1: Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 *   Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 * Known extensions are decoded eagerly (a malformed one fails the parse); unknown ones are kept raw.
 */
export interface ExtensionSet {
  list: Extension[];
  decoded: Map<string, unknown>;
}

/**
 * Base of every object that carries extensions (Certificate, CSR, CRL, CRL entry): the raw list
 * in order and the decoded value of each known extension.
 */
export abstract class HasExtensions {
  constructor(protected readonly ext: ExtensionSet) {}

  get extensions(): readonly Extension[] {
    return this.ext.list;
  }
  extension(oid: string): Extension | undefined {
    for (const e of this.ext.list) if (e.oid === oid) return e;
    return undefined;
  }
  /** The decoded value of a known extension, by OID. */
  decoded<V = unknown>(oid: string): V | undefined {
    return this.ext.decoded.get(oid) as V | undefined;
  }
}

export const EMPTY_EXTENSIONS: ExtensionSet = Object.freeze({ list: [], decoded: new Map() }) as ExtensionSet;

/** Reads the content of an Extensions SEQUENCE (the caller opened any [n] wrapper). */
export function readExtensions(r: DerReader, name = 'extensions', allowEmpty = true): ExtensionSet {
  const off = r.pos;
  const seq = r.readSequence(name);
  const list: Extension[] = [];
  const decoded = new Map<string, unknown>();
  // A plain loop (no per-extension closures): this runs for every certificate parsed.
  const base = seq.bytes.byteOffset;
  const max = seq.limits.maxElements;
  while (!seq.atEnd()) {
    if (list.length >= max) seq.fail('too-many-elements', `more than ${max} Extension`);
    const start = seq.pos;
    const ext = seq.readSequence('Extension');
    const oid = ext.readOid('extnID');
    let critical = false;
    // Tolerance: DER forbids encoding DEFAULT FALSE, but deployed certificates (and CA
    // software such as older Microsoft CAs) write `critical FALSE` explicitly; Go, OpenSSL and
    // webpki all accept it. It changes nothing semantically.
    if (ext.peekTag() === 0x01) critical = ext.readBoolean('critical');
    const value = ext.readOctetString('extnValue');
    ext.finish();
    for (let i = 0; i < list.length; i++)
      if (list[i]!.oid === oid)
        throw new X509Error(
          'duplicate-extension',
          `extension ${oid} appears more than once`,
          start,
          seq.path('Extension'),
        );
    const x: Extension = { oid, critical, value, der: seq.bytes.subarray(start, seq.pos) };
    const v = decodeExtension(x, value.byteOffset - base);
    if (v !== undefined) decoded.set(oid, v);
    list.push(x);
  }
  // Tolerance: RFC 5280 says SIZE (1..MAX), but certificates with an empty extensions
  // SEQUENCE exist in the wild (webpki documents the same leniency); an empty list is harmless.
  if (!allowEmpty && list.length === 0)
    throw new X509Error('empty-sequence', `${name} must not be empty`, off, r.path(name));
  return { list, decoded };
}

export function writeExtensions(w: DerWriter, exts: readonly Extension[]): void {
  w.sequence((w) => {
    for (const x of exts) w.raw(x.der);
  });
}
