// Certificate requests for the CA tests: well-formed ones from real keys, and the hostile classes
// (malformed, bad signature, weak keys) built by changing exactly one thing in a real request.
import { generateKeyPairSync } from 'node:crypto';
import { generateKeyPair, KeySigner, type KeyType, type Signer } from '../../src/crypto/index.js';
import { ecSpki, rsaSpki } from '../../src/crypto/key-info.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { type CertificationRequest, parseSpki } from '../../src/x509/index.js';

export interface CsrSpec {
  key?: KeyType;
  subject?: string;
  sans?: string[];
}

const signers = new Map<KeyType, Promise<Signer>>();
/** One key per type, reused across requests (key generation dominates otherwise, RSA above all). */
export function keySigner(type: KeyType): Promise<Signer> {
  let s = signers.get(type);
  if (!s) {
    s = generateKeyPair(type).then((k) => KeySigner.create(k.privateKey));
    signers.set(type, s);
  }
  return s;
}

/** A fresh key's signer (when a test needs a key no other request used). */
export async function freshSigner(type: KeyType = 'ec-p256'): Promise<Signer> {
  return KeySigner.create((await generateKeyPair(type)).privateKey);
}

export async function makeCsr(spec: CsrSpec = {}, signer?: Signer): Promise<CertificationRequest> {
  const b = new CsrBuilder();
  if (spec.subject !== undefined) b.subject(spec.subject);
  if (spec.sans?.length) b.subjectAltName(spec.sans);
  return b.sign(signer ?? (await keySigner(spec.key ?? 'ec-p256')));
}

/** A signer that signs with a real key but announces another public key (the request then carries it). */
function announcing(real: Signer, publicKey: Uint8Array): Signer {
  return { algorithm: real.algorithm, publicKey, sign: (tbs) => real.sign(tbs) };
}

/** The DER of a real request with one signature bit flipped. */
export async function badSignatureCsr(): Promise<Uint8Array> {
  const der = Uint8Array.from((await makeCsr({ subject: 'CN=device-badsig' })).der);
  der[der.length - 5]! ^= 0x01;
  return der;
}

/** RSA-1024, signed with its own key (a valid proof of possession over a weak key). */
export async function rsa1024Csr(): Promise<CertificationRequest> {
  const k = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pkcs8 = k.privateKey.export({ type: 'pkcs8', format: 'der' });
  const { importPrivateKey } = await import('../../src/crypto/index.js');
  const signer = await KeySigner.create(await importPrivateKey(new Uint8Array(pkcs8)));
  return makeCsr({ subject: 'CN=device-rsa1024' }, signer);
}

/** An RSA-2048 modulus with an even public exponent (65536). */
export async function evenExponentCsr(): Promise<CertificationRequest> {
  const real = await keySigner('rsa-2048');
  const rsa = parseSpki(real.publicKey).rsa!;
  return makeCsr(
    { subject: 'CN=device-even-e' },
    announcing(real, rsaSpki(rsa.modulus, Uint8Array.of(1, 0, 0))),
  );
}

/** A P-256 point with y changed by one: not on the curve. */
export async function offCurveCsr(): Promise<CertificationRequest> {
  const real = await keySigner('ec-p256');
  const point = Uint8Array.from(parseSpki(real.publicKey).publicKey); // a copy (Buffer.slice would be a view)
  point[point.length - 1]! ^= 0x01;
  return makeCsr({ subject: 'CN=device-off-curve' }, announcing(real, ecSpki('P-256', point)));
}
