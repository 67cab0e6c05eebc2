/**
 * fleetpki's portable core for browsers, Deno, Bun and edge workers: codec, keys and builders,
 * path validation and revocation, with WebCrypto as the provider. No `node:` import is reachable
 * from here (a test bundles it for the browser platform and runs it in a bare V8 context).
 */

export * from './crypto/portable.js';
export * from './der/index.js';
// Names that two layers both export, made explicit at the root.
export type { Profile, Profile as IssuanceProfile, RevokedEntry } from './issue/index.js';
export * from './issue/index.js';
export * from './pem/index.js';
export type { RevokedEntry as StatusRevokedEntry } from './revocation/index.js';
export * from './revocation/index.js';
export type { Profile as ValidationProfile } from './verify/index.js';
export * from './verify/index.js';
export { signatureAlgorithmName as policyAlgorithmName } from './verify/index.js';
export * from './x509/index.js';
export { signatureAlgorithmName } from './x509/index.js';
