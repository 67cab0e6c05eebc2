/**
 * fleetpki/crypto on Node: the portable surface (`./portable.ts`) plus the `node:crypto`
 * provider — installed as the default here, so verification is synchronous (fast enough for every
 * TLS handshake) — and the PKCS#11 signer. Browser/edge builds resolve to `./portable.ts`.
 */
import './node-default.js';

export { nodeCrypto } from './node.js';
export type { Pkcs11Constants, Pkcs11GenerateOptions, Pkcs11SignerOptions } from './pkcs11.js';
export { Pkcs11Signer } from './pkcs11.js';
export * from './portable.js';
