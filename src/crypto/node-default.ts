/**
 * Installs the `node:crypto` provider as the process-wide default, unless one is set already.
 * Imported for this effect by `fleetpki/crypto` on Node and by the Node-only layers (mtls, est,
 * ca), so that one of them used alone — `import { createMtlsServer } from 'fleetpki/mtls'` —
 * verifies synchronously with node:crypto rather than through WebCrypto's asynchronous jobs (the
 * portable fallback, which made a server's verification of a new device several times dearer).
 */
import { setDefaultProviderIfUnset } from './default-provider.js';
import { nodeCrypto } from './node.js';

setDefaultProviderIfUnset(nodeCrypto);
