/**
 * fleetpki — PKI and private CA for IoT fleets (Node entry). The public surface of DESIGN.md:
 * the portable core plus the `node:crypto` provider (the default here) and the PKCS#11 signer.
 * Each layer is also a subpath export (`fleetpki/der`, `fleetpki/x509`, `fleetpki/verify`, …).
 */

// The CA (Node only): the rest of its surface is the subpath `fleetpki/ca`.
export { Authority } from './ca/authority.js';
export { openStore } from './ca/store/index.js';
export * from './crypto/index.js';
export * from './portable.js';
