/**
 * fleetpki/ca — the certificate authority as a library (Node only: keys on disk, SQLite or
 * PostgreSQL). `Authority` is what `fleetpki serve`, the `ca`/`crl` CLI, EST and MQTT provisioning
 * are built on; `openStore` opens its store; `KeyStore` and `resolvePassphrase` hold its keys.
 *
 *   const store = await openStore('sqlite:./fleetpki-data/fleetpki.db');
 *   const { passphrase } = resolvePassphrase({ dataDir: './fleetpki-data', generate: true });
 *   const keys = await KeyStore.open({ dataDir: './fleetpki-data', passphrase });
 *   const { authority } = await Authority.init({ store, keys, config: loadConfig('ca.yaml') });
 */

// Node-only: the node:crypto provider is the default here (see crypto/node-default.ts).
import '../crypto/node-default.js';

export { type AuditVerifyOptions, type AuditVerifyResult, verifyAudit } from './audit.js';
export {
  Authority,
  type AuthorityOptions,
  type IssueOptions,
  REVOCATION_REASONS,
  type RenewOptions,
  type RequesterOptions,
  type RevocationResult,
  type RevokeOptions,
  type SerialInput,
} from './authority.js';
export {
  type CaConfig,
  type IntermediateConfig,
  loadConfig,
  parseConfig,
  type RootConfig,
  type UrlConfig,
} from './config.js';
export { CountingSigner, countingSigners } from './counting-signer.js';
export { CaError, type CaErrorCode, type CaErrorDetails, isCaError, REQUEST_ERROR_CODES } from './errors.js';
export type { IssuerInfo } from './hierarchy.js';
export type {
  ImportedCa,
  ImportIssuerOptions,
  InitHierarchyOptions,
  KeyImport,
  RotateOptions,
} from './init.js';
export { type CreatedKey, KeyStore, type KeyStoreOptions, type OpenKeysOptions, openKeys } from './keys.js';
export { type CaLogger, silentLogger } from './logger.js';
export type { IssuedResult, IssueResult, PendingResult } from './pipeline.js';
export { isPublicSuffix, POLICY_VALIDATORS, type PolicyInput, type Validator } from './policy.js';
export {
  ALLOWED_KEY_TYPES,
  type AllowedKeyType,
  BUILTIN_PROFILES,
  type CaProfile,
  type IssuanceRules,
  RULE_SECTIONS,
  type SanRules,
  type SanType,
  SUBJECT_ATTRIBUTES,
  type SubjectAttributeRule,
} from './profiles.js';
export {
  PASSPHRASE_ENV,
  type PassphraseOptions,
  PKCS11_PIN_ENV,
  passphraseFile,
  type ResolvedPassphrase,
  resolvePassphrase,
} from './secrets.js';
export * from './store/index.js';
