/**
 * `fleetpki inspect FILE [--json] [--asn1] [--at TIME] [--passphrase-file FILE]` — what is in a PKI file.
 *
 * Recognises certificates, CSRs (PKCS#10, with whether their signature verifies), CRLs, private
 * keys (PKCS#8, encrypted PKCS#8, SEC1, PKCS#1, legacy PEM-encrypted), public keys (SPKI, PKCS#1),
 * PKCS#7 certs-only bundles, PKCS#12 files (.p12/.pfx), OpenSSL `TRUSTED CERTIFICATE` blocks, OCSP
 * requests and responses, and files holding several of them; PEM or DER. Private key material is
 * never printed. OpenSSH keys get a hint on how to convert them.
 *
 * The work is split by concern, under `inspect/`:
 *   load.ts   reading (size-bounded) and sniffing the input into parsed objects;
 *   keys.ts   key descriptions;  ocsp.ts, extensions.ts  OCSP and extension views;
 *   views.ts  the typed view of every object — the model both outputs are made from;
 *   schema.ts the `--json` schema (versioned; schemas/inspect.schema.json);
 *   text.ts   the text rendering;  pkcs12.ts  PKCS#12 containers (asks for the password).
 * This file is the command: options, and writing the output one object at a time.
 *
 * Bad input exits 2 with one line, e.g.
 *   fleetpki: bad-integer at offset 15 (Certificate/tbsCertificate/serialNumber): non-minimal INTEGER
 */
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { type Loaded, loadObjects, MAX_INPUT_BYTES, readInputFile, withWhere } from './inspect/load.js';
import { pkcs12Loader, type UnlockedPkcs12, unlockPkcs12 } from './inspect/pkcs12.js';
import { INSPECT_SCHEMA_VERSION, type InspectDocument } from './inspect/schema.js';
import { filesHeaderText, objectViewText } from './inspect/text.js';
import { inspectDocument, objectView } from './inspect/views.js';

export { loadObjects, MAX_INPUT_BYTES };

/** What `inspectFile`/`writeInspect` show and how. */
export interface InspectOptions {
  json?: boolean;
  asn1?: boolean;
  /** Time for the validity phrases (epoch ms); default now. */
  at?: number;
  /** The file's bytes when already read (the command reads once). */
  bytes?: Uint8Array;
  /** A PKCS#12 file decrypted beforehand (`inspectFileAsync`); without it a PFX shows as 'locked'. */
  pkcs12?: UnlockedPkcs12;
}

/** The JSON document for a file's objects. */
export function inspectJson(
  file: string,
  objects: readonly Loaded[],
  opts: InspectOptions = {},
): InspectDocument {
  return withWhere(undefined, () =>
    inspectDocument(file, objects, { now: opts.at ?? Date.now(), asn1: opts.asn1 }),
  );
}

/** Text view of a JSON document. */
export function inspectText(doc: InspectDocument): string {
  return filesHeaderText(doc.file, doc.objects.length) + doc.objects.map(objectViewText).join('\n');
}

/** Parses a `--at` value: ISO 8601 date/time (UTC when no zone is given). */
export function parseAt(s: string): number {
  const v = /[zZ]|[+-]\d\d:?\d\d$/.test(s) || !s.includes('T') ? Date.parse(s) : Date.parse(`${s}Z`);
  if (Number.isNaN(v)) throw new CliError(`--at: not an ISO 8601 time: "${s}"`);
  return v;
}

/** `JSON.stringify(x, null, 2)` of an array element, indented to sit inside `"objects": [ … ]`. */
const indented = (x: unknown) => JSON.stringify(x, null, 2).replace(/^/gm, '    ');

/**
 * Writes what `fleetpki inspect` prints for a file, one object at a time: only one object's view
 * is in memory at once, beside the parsed file. Throws CliError on bad input (before any output:
 * the whole file is parsed first).
 */
export function writeInspect(file: string, opts: InspectOptions, write: (s: string) => void): void {
  const objects = loadObjects(opts.bytes ?? readInputFile(file), { pkcs12: pkcs12Loader(opts.pkcs12) });
  const vo = { now: opts.at ?? Date.now(), asn1: opts.asn1 };
  if (opts.json) {
    // The same bytes as JSON.stringify(inspectJson(...), null, 2), written in pieces.
    write(
      `{\n  "schemaVersion": ${INSPECT_SCHEMA_VERSION},\n  "file": ${JSON.stringify(file)},\n  "objects": [`,
    );
    objects.forEach((o, i) => {
      write(`${i ? ',' : ''}\n${indented(withWhere(undefined, () => objectView(o, vo)))}`);
    });
    write(objects.length ? '\n  ]\n}\n' : ']\n}\n');
    return;
  }
  write(filesHeaderText(file, objects.length));
  objects.forEach((o, i) => {
    write(`${i ? '\n' : ''}${objectViewText(withWhere(undefined, () => objectView(o, vo)))}`);
  });
}

/**
 * Everything `fleetpki inspect` prints for a file, as one string (throws CliError on bad input).
 * Synchronous: a PKCS#12 file shows only its summary; `inspectFileAsync` decrypts it.
 */
export function inspectFile(file: string, opts: InspectOptions = {}): string {
  const parts: string[] = [];
  writeInspect(file, opts, (s) => parts.push(s));
  return parts.join('');
}

/** `inspectFile`, decrypting a PKCS#12 file first (password from the file, FLEETPKI_PASSPHRASE, '' or a prompt). */
export async function inspectFileAsync(
  file: string,
  opts: InspectOptions & { passphraseFile?: string } = {},
): Promise<string> {
  const bytes = readInputFile(file);
  const pkcs12 = await unlockPkcs12(bytes, opts.passphraseFile);
  return inspectFile(file, { ...opts, bytes, pkcs12 });
}

/** Adds `inspect` to the `fleetpki` program (for src/cli/main.ts). */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a certificate, CSR, CRL, key, PKCS#7/PKCS#12 bundle (PEM or DER) contains')
    .argument(
      '<file>',
      `file to inspect (PEM with one or more blocks, or DER; at most ${MAX_INPUT_BYTES / 1048576} MiB)`,
    )
    .option(
      '--json',
      `print JSON (schemaVersion ${INSPECT_SCHEMA_VERSION}, schemas/inspect.schema.json) instead of text`,
    )
    .option('--asn1', 'also show the DER structure (private key contents are redacted)')
    .option('--at <time>', 'evaluate validity at this ISO 8601 time instead of now')
    .option(
      '--passphrase-file <file>',
      'password of a PKCS#12 file, first line of FILE (else FLEETPKI_PASSPHRASE or a prompt)',
    )
    .action(
      async (file: string, o: { json?: boolean; asn1?: boolean; at?: string; passphraseFile?: string }) => {
        const at = o.at ? parseAt(o.at) : undefined;
        const bytes = readInputFile(file);
        const pkcs12 = await unlockPkcs12(bytes, o.passphraseFile);
        writeInspect(file, { json: o.json, asn1: o.asn1, at, bytes, pkcs12 }, (s) => process.stdout.write(s));
      },
    );
}
