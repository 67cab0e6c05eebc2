/**
 * `fleetpki provision --mqtt mqtts://HOST:PORT --ca ROOT.pem --claim-cert C --claim-key K --out DIR
 *   [--template T] [--attr NAME=VALUE]... [--subject DN] [--san LIST] [--create-key]
 *   [--protocol 5|3.1.1] [--format json|cbor] [--key-type T] [--request-id ID] [--timeout S] [--json]`
 *
 * The device side of fleet provisioning over MQTT (src/provision/device.ts): connects to the broker
 * with the claim certificate, makes a key and a CSR (or, with --create-key, lets the service make
 * the key), provisions, checks the issued chain against --ca (purpose clientAuth), writes
 * DIR/device.key (PKCS#8, 0600) and DIR/device.crt (the certificate, then its chain below the root)
 * together and atomically, then proves the new identity: reconnects with it and publishes on its
 * own topic, which must come back to it. The default subject is `CN=<template>-<serialNumber>`
 * when a serialNumber attribute is given.
 *
 * Exit: 0 provisioned and proven, 1 refused (the answer's code on stderr) or not proven, 2 bad input.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { proveIdentity, provisionDevice } from '../provision/device.js';
import { ProvisionError } from '../provision/errors.js';
import { CliError, EXIT_NEGATIVE } from './errors.js';
import { parseKeyType } from './key.js';
import { checkOutputs, PUBLIC_MODE, readInput, SECRET_MODE, writeFilesAtomic } from './pki-files.js';

interface ProvisionOptions {
  mqtt: string;
  ca: string;
  claimCert: string;
  claimKey: string;
  out: string;
  template: string;
  attr: string[];
  subject?: string;
  san?: string;
  createKey?: boolean;
  protocol: string;
  format: string;
  keyType: string;
  requestId?: string;
  timeout: string;
  force?: boolean;
  json?: boolean;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function registerProvision(program: Command): void {
  program
    .command('provision')
    .description('provision this device over MQTT with a claim certificate, then prove the new identity')
    .requiredOption('--mqtt <url>', 'the broker, mqtts://HOST:PORT')
    .requiredOption('--ca <file>', 'trust anchor(s) for the broker and the issued chain (PEM)')
    .requiredOption('--claim-cert <file>', 'claim certificate (PEM, with its chain)')
    .requiredOption('--claim-key <file>', 'claim key (unencrypted PEM)')
    .requiredOption('--out <dir>', 'where device.key and device.crt are written')
    .option('--template <name>', 'provisioning template', 'device')
    .option('--attr <name=value>', 'a device attribute (repeatable), e.g. serialNumber=SN0001', collect, [])
    .option('--subject <dn>', 'subject to ask for (default CN=<template>-<serialNumber>)')
    .option('--san <list>', 'subjectAltName to ask for: uri:…,dns:…')
    .option('--create-key', 'let the service generate the key (for devices that cannot make a CSR)')
    .option('--protocol <v>', 'MQTT protocol version: 5 or 3.1.1', '5')
    .option('--format <f>', 'payload encoding: json or cbor', 'json')
    .option('--key-type <type>', 'key type of the new key', 'ec-p256')
    .option('--request-id <id>', 'request id (reuse it to retry a provisioning)')
    .option('--timeout <s>', 'seconds to wait for each answer before re-sending (3 sends)', '10')
    .option('--force', 'replace an existing DIR/device.key')
    .option('--json', 'print a JSON summary')
    .action(async (o: ProvisionOptions) => {
      if (o.protocol !== '5' && o.protocol !== '3.1.1') throw new CliError('--protocol must be 5 or 3.1.1');
      if (o.format !== 'json' && o.format !== 'cbor') throw new CliError('--format must be json or cbor');
      const timeout = Number(o.timeout);
      if (!(timeout > 0 && timeout <= 600)) throw new CliError('--timeout must be 1 to 600 seconds');
      const keyType = parseKeyType(o.keyType);
      const attributes: Record<string, string> = {};
      for (const a of o.attr) {
        const eq = a.indexOf('=');
        if (eq < 1) throw new CliError(`--attr must be NAME=VALUE, got "${a}"`);
        attributes[a.slice(0, eq)] = a.slice(eq + 1);
      }
      const subject =
        o.subject ?? (attributes.serialNumber ? `CN=${o.template}-${attributes.serialNumber}` : undefined);
      if (!o.createKey && !subject) throw new CliError('--subject is needed (or --attr serialNumber=…)');
      const ca = readInput(o.ca, 'CA file').toString('utf8');
      const claimCert = readInput(o.claimCert, 'claim certificate').toString('utf8');
      const claimKey = readInput(o.claimKey, 'claim key').toString('utf8');
      const protocol = o.protocol === '5' ? 5 : ('3.1.1' as const);
      mkdirSync(o.out, { recursive: true });
      const keyPath = join(o.out, 'device.key');
      const crtPath = join(o.out, 'device.crt');
      checkOutputs([{ path: keyPath, noClobber: !o.force }, { path: crtPath }]);
      try {
        const r = await provisionDevice({
          url: o.mqtt,
          ca,
          claimCert,
          claimKey,
          template: o.template,
          attributes,
          mode: o.createKey ? 'create-key' : 'csr',
          subject,
          san: o.san
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          keyType,
          protocol,
          format: o.format as 'json' | 'cbor',
          requestId: o.requestId,
          retryMs: timeout * 1000,
        });
        writeFilesAtomic([
          { path: keyPath, data: r.keyPem, mode: SECRET_MODE, noClobber: !o.force },
          { path: crtPath, data: r.chainPem, mode: PUBLIC_MODE },
        ]);
        // The files on disk, not the values in memory, are what the device will use from now on.
        await proveIdentity({
          url: o.mqtt,
          ca,
          protocol,
          cert: readFileSync(crtPath, 'utf8'),
          key: readFileSync(keyPath, 'utf8'),
          topic: r.deviceTopic,
        });
        const s = {
          action: r.replayed ? 'provisioned (replayed)' : 'provisioned',
          subject: r.certificate.subject.toString(),
          serial: r.certificate.serialHex,
          notAfter: new Date(r.certificate.notAfter).toISOString(),
          requestId: r.requestId,
          topic: r.deviceTopic,
          key: keyPath,
          certificate: crtPath,
        };
        process.stdout.write(
          o.json
            ? `${JSON.stringify(s)}\n`
            : `${s.action} ${s.subject} serial ${s.serial} until ${s.notAfter}: ${crtPath}; published on ${s.topic}/provisioned\n`,
        );
      } catch (e) {
        if (e instanceof ProvisionError)
          throw new CliError(`${e.code}: ${e.message}`, e.code === 'bad-input' ? 2 : EXIT_NEGATIVE);
        throw e;
      }
    });
}
