/**
 * fleetpki/mtls — mutual TLS on `node:tls`/`node:https` with our path validation deciding (servers
 * checking clients, clients checking servers), OCSP stapling for a server's own certificate, and
 * Mosquitto broker configuration (mTLS listener, per-device ACL, a CRL file kept fresh).
 */

// Node-only: the node:crypto provider is the default here (see crypto/node-default.ts).
import '../crypto/node-default.js';

export {
  type AclAccess,
  type AclRule,
  type AclUser,
  buildAcl,
  type ClaimAclOptions,
  claimAclUser,
  isTopicLevelName,
  type TopicLayout,
} from './acl.js';
export { type MtlsConnection, type MtlsConnectOptions, mtlsConnect, mtlsCreateConnection } from './client.js';
export { CrlFileKeeper, type CrlFileKeeperOptions, writeAtomically } from './crl-file.js';
export { MtlsError, type MtlsErrorCode } from './errors.js';
export { PeerIdentity } from './identity.js';
export { type BrokerConfigFiles, type BrokerConfigOptions, writeBrokerConfig } from './mosquitto.js';
export {
  MAX_PEER_CHAIN,
  type PeerVerdict,
  PeerVerifier,
  type PeerVerifierOptions,
  peerChain,
  peerLeaf,
  type ReferenceIdentity,
} from './peer-verifier.js';
export {
  CrlRevocation,
  lookupFromStatusSource,
  type StatusLookup,
  StatusLookupRevocation,
  type StatusQuery,
} from './revocation.js';
export {
  attachMtls,
  createMtlsHttpsServer,
  createMtlsServer,
  type MtlsRejection,
  type MtlsServerHandle,
  type MtlsServerOptions,
  type MtlsStats,
  mtlsServerOptions,
  peerIdentity,
} from './server.js';
export { type OcspSource, OcspStapler, type OcspStaplerOptions } from './stapling.js';
