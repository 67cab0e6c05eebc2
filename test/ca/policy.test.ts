// ca/policy.ts and ca/key-check.ts on real requests: each rule of the issuance policy refuses its
// case with its code and names its RFC section; well-formed requests pass every rule.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { parseConfig } from '../../src/ca/config.js';
import { nameConstraintsFromText } from '../../src/ca/constraint-text.js';
import { CaError } from '../../src/ca/errors.js';
import { checkKeySoundness } from '../../src/ca/key-check.js';
import { checkPolicy, type PolicyInput } from '../../src/ca/policy.js';
import type { CaProfile } from '../../src/ca/profiles.js';
import { generateKeyPair, KeySigner, type Signer } from '../../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../../src/issue/index.js';
import type { Certificate, CertificationRequest } from '../../src/x509/index.js';
import { evenExponentCsr, keySigner, makeCsr, offCurveCsr, rsa1024Csr } from './requests.js';

let root: Certificate;
let ca: Certificate;
let constrained: Certificate;

const config = parseConfig({
  profiles: {
    strict: {
      subject: { CN: { required: true, pattern: 'device-[0-9a-f]{16}' } },
      keyTypes: ['ec-p256'],
    },
    wild: {
      extKeyUsage: ['serverAuth'],
      san: { required: true, allow: { dns: ['[a-z0-9.*-]+'] } },
      rules: { wildcards: 'allow' },
    },
  },
});
const profile = (n: string): CaProfile => config.profiles[n]!;

before(async () => {
  const [rk, ik, ck] = await Promise.all([
    generateKeyPair('ec-p256'),
    generateKeyPair('ec-p256'),
    generateKeyPair('ec-p256'),
  ]);
  const rootSigner: Signer = await KeySigner.create(rk.privateKey);
  root = (await new CertificateBuilder('root').subject('CN=Policy Root,O=fleetpki test').sign(rootSigner))
    .certificate;
  const rootIssuer = Issuer.fromCertificate(root, rootSigner);
  ca = (
    await new CertificateBuilder('intermediate')
      .subject('CN=Policy Issuing CA,O=fleetpki test')
      .publicKey(ik.publicKey)
      .issuer(rootIssuer)
      .sign()
  ).certificate;
  constrained = (
    await new CertificateBuilder('intermediate')
      .subject('CN=Constrained CA,O=fleetpki test')
      .publicKey(ck.publicKey)
      .issuer(rootIssuer)
      .nameConstraints(
        nameConstraintsFromText({ permitted: ['dns:fleet.example', 'ip:10.0.0.0/8'], excluded: [] }),
      )
      .sign()
  ).certificate;
});

function input(csr: CertificationRequest, p: string, issuer = () => ca): PolicyInput {
  return {
    profile: profile(p),
    subject: csr.subject,
    spki: csr.subjectPublicKeyInfo,
    sans: csr.subjectAltName ?? [],
    issuer: issuer(),
    issuerChain: [root],
  };
}

describe('policy rules', () => {
  const cases: {
    name: string;
    csr: () => Promise<CertificationRequest>;
    profile: string;
    issuer?: () => Certificate;
    code?: string;
    rule?: string;
  }[] = [
    { name: 'device: CN only', csr: () => makeCsr({ subject: 'CN=device-001' }), profile: 'device' },
    {
      name: 'device: CN, O, OU and a URN',
      csr: () => makeCsr({ subject: 'CN=dev-7,OU=Sensors,O=Acme', sans: ['uri:urn:dev:ops:acme-7'] }),
      profile: 'device',
    },
    {
      name: 'device: Ed25519 key',
      csr: () => makeCsr({ key: 'ed25519', subject: 'CN=device-ed' }),
      profile: 'device',
    },
    {
      name: 'server: DNS and IP names',
      csr: () =>
        makeCsr({ subject: 'CN=broker.fleet.example', sans: ['dns:broker.fleet.example', 'ip:10.1.2.3'] }),
      profile: 'server',
    },
    {
      name: 'strict: CN matching the pattern',
      csr: () => makeCsr({ subject: 'CN=device-0123456789abcdef' }),
      profile: 'strict',
    },
    {
      name: 'constrained CA: names inside its subtrees',
      csr: () => makeCsr({ subject: 'CN=gw', sans: ['dns:gw.fleet.example', 'ip:10.9.9.9'] }),
      profile: 'server',
      issuer: () => constrained,
    },
    {
      name: 'wildcard allowed by the profile below a private domain',
      csr: () => makeCsr({ subject: 'CN=wild', sans: ['dns:*.fleet.example'] }),
      profile: 'wild',
    },
    // refusals
    {
      name: 'subject attribute the profile does not list',
      csr: () => makeCsr({ subject: 'CN=device-001,C=DE' }),
      profile: 'device',
      code: 'subject-not-allowed',
      rule: 'subject',
    },
    {
      name: 'CN outside the pattern',
      csr: () => makeCsr({ subject: 'CN=device-XYZ' }),
      profile: 'strict',
      code: 'subject-not-allowed',
      rule: 'subject',
    },
    {
      name: 'required CN missing',
      csr: () => makeCsr({ subject: 'O=Acme' }),
      profile: 'device',
      code: 'subject-not-allowed',
      rule: 'subject',
    },
    {
      name: 'empty subject',
      csr: () => makeCsr({ sans: ['dns:x.fleet.example'] }),
      profile: 'device',
      code: 'subject-not-allowed',
      rule: 'emptySubject',
    },
    {
      name: "subject equal to the issuing CA's",
      csr: () => makeCsr({ subject: 'CN=Policy Issuing CA,O=fleetpki test' }),
      profile: 'device',
      code: 'subject-equals-issuer',
      rule: 'subjectNotIssuer',
    },
    {
      name: "subject equal to the root's",
      csr: () => makeCsr({ subject: 'CN=Policy Root,O=fleetpki test' }),
      profile: 'device',
      code: 'subject-equals-issuer',
      rule: 'subjectNotIssuer',
    },
    {
      name: 'SAN type the profile does not allow (IP on device)',
      csr: () => makeCsr({ subject: 'CN=device-001', sans: ['ip:192.0.2.1'] }),
      profile: 'device',
      code: 'san-not-allowed',
      rule: 'san',
    },
    {
      name: 'DNS:*.com',
      csr: () => makeCsr({ subject: 'CN=wild', sans: ['dns:*.com'] }),
      profile: 'wild',
      code: 'san-not-allowed',
      rule: 'wildcards',
    },
    {
      name: 'DNS:*.co.uk',
      csr: () => makeCsr({ subject: 'CN=wild', sans: ['dns:*.co.uk'] }),
      profile: 'wild',
      code: 'san-not-allowed',
      rule: 'wildcards',
    },
    {
      name: 'wildcard on a profile that forbids them',
      csr: () => makeCsr({ subject: 'CN=srv', sans: ['dns:*.fleet.example'] }),
      profile: 'server',
      code: 'san-not-allowed',
      rule: 'wildcards',
    },
    {
      name: 'URI:javascript:',
      csr: () => makeCsr({ subject: 'CN=device-001', sans: ['uri:javascript:alert(1)'] }),
      profile: 'device',
      code: 'san-not-allowed',
      rule: 'san',
    },
    {
      name: 'server without SAN',
      csr: () => makeCsr({ subject: 'CN=broker' }),
      profile: 'server',
      code: 'san-required',
      rule: 'sanRequired',
    },
    {
      name: 'DNS-like CN that is not in the SAN',
      csr: () => makeCsr({ subject: 'CN=other.fleet.example', sans: ['dns:broker.fleet.example'] }),
      profile: 'server',
      code: 'subject-not-allowed',
      rule: 'commonNameInSan',
    },
    {
      name: "a DNS name outside the CA's name constraints",
      csr: () => makeCsr({ subject: 'CN=gw', sans: ['dns:gw.evil.example'] }),
      profile: 'server',
      issuer: () => constrained,
      code: 'name-constraint-violation',
      rule: 'nameConstraints',
    },
    {
      name: "an IP outside the CA's name constraints",
      csr: () => makeCsr({ subject: 'CN=gw', sans: ['dns:gw.fleet.example', 'ip:192.168.1.1'] }),
      profile: 'server',
      issuer: () => constrained,
      code: 'name-constraint-violation',
      rule: 'nameConstraints',
    },
    {
      name: 'key type the profile does not allow (P-384 on strict)',
      csr: () => makeCsr({ key: 'ec-p384', subject: 'CN=device-0123456789abcdef' }),
      profile: 'strict',
      code: 'key-type-not-allowed',
      rule: 'keyType',
    },
    {
      name: 'RSA on a profile without rsa',
      csr: () => makeCsr({ key: 'rsa-2048', subject: 'CN=device-0123456789abcdef' }),
      profile: 'strict',
      code: 'key-type-not-allowed',
      rule: 'keyType',
    },
  ];
  for (const c of cases)
    test(c.name, async () => {
      const csr = await c.csr();
      const run = () => checkPolicy(input(csr, c.profile, c.issuer));
      if (!c.code) return run();
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof CaError, String(e));
        assert.equal(e.code, c.code, e.message);
        assert.equal(e.details.rule, c.rule);
        assert.ok(typeof e.details.section === 'string' && e.details.section.length > 0, 'names its section');
        return true;
      });
    });
});

describe('key soundness', () => {
  const cases: { name: string; csr: () => Promise<CertificationRequest>; code?: string; message?: RegExp }[] =
    [
      { name: 'P-256', csr: () => makeCsr({ key: 'ec-p256', subject: 'CN=a' }) },
      { name: 'P-384', csr: () => makeCsr({ key: 'ec-p384', subject: 'CN=a' }) },
      { name: 'Ed25519', csr: () => makeCsr({ key: 'ed25519', subject: 'CN=a' }) },
      { name: 'RSA-2048', csr: () => makeCsr({ key: 'rsa-2048', subject: 'CN=a' }) },
      { name: 'RSA-1024', csr: rsa1024Csr, code: 'weak-key', message: /1024 bits/ },
      {
        name: 'RSA with an even exponent',
        csr: evenExponentCsr,
        code: 'weak-key',
        message: /exponent is even/,
      },
      {
        name: 'P-256 point off the curve',
        csr: offCurveCsr,
        code: 'weak-key',
        message: /not a valid P-256 point/,
      },
    ];
  for (const c of cases)
    test(c.name, async () => {
      const csr = await c.csr();
      const run = () => checkKeySoundness(csr.subjectPublicKeyInfo);
      if (!c.code) return run();
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof CaError, String(e));
        assert.equal(e.code, c.code);
        assert.match(e.message, c.message!);
        return true;
      });
    });

  test('the key helper reuses keys per type', async () => {
    assert.equal(await keySigner('ec-p256'), await keySigner('ec-p256'));
  });
});
