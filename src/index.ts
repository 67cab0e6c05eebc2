/**
 * fleetpki — PKI and private CA for IoT fleets. The package root re-exports the public surface
 * (DESIGN.md); each layer is also available as a subpath export (`fleetpki/der`, `fleetpki/x509`, …).
 */
export * from './der/index.js';
export * from './pem/index.js';
export * from './x509/index.js';
