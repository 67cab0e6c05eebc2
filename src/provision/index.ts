/**
 * fleetpki/provision — fleet provisioning over MQTT with claim certificates, on any broker
 * (docs/provisioning.md): the topic tree and payload codecs, the service that answers requests
 * through the Authority, the device client, and the broker ACL the scheme needs.
 */
export { type ProvisioningTopicLayout, provisioningTopicLayout } from './acl.js';
export { AllowList } from './allow-list.js';
export { type CborLimits, checkCbor } from './cbor-check.js';
export { type ClaimCredential, type CreateClaimsOptions, createClaims } from './claim.js';
export {
  type CreateKeyRequest,
  type CsrRequest,
  type DecodeOptions,
  decodeAnswer,
  decodeRequest,
  type ErrorAnswer,
  encodeAnswer,
  encodeRequest,
  type IssuedAnswer,
  isErrorAnswer,
  PAYLOAD_FORMATS,
  type PayloadFormat,
  type ProvisionAnswer,
  type ProvisionRequest,
  SCHEMA_VERSION,
} from './codec.js';
export {
  claimIdentity,
  connectMqtt,
  type DeviceConnection,
  type ProvisionDeviceOptions,
  type ProvisionedDevice,
  proveIdentity,
  provisionDevice,
  subscribeChecked,
} from './device.js';
export { ANSWER_ERROR_CODES, ProvisionError, type ProvisionErrorCode } from './errors.js';
export { checkAttributes, checkDeviceIdentity, checkSan, checkSubject, createKeyNames } from './policy.js';
export { type RateDecision, type RateLimit, RateLimiter } from './rate-limit.js';
export {
  ProvisioningService,
  type ProvisioningServiceOptions,
  type ProvisioningStats,
} from './service.js';
export {
  isClaimResponseTopic,
  parseRequestTopic,
  type RequestTopic,
  requestFilter,
  requestTopic,
  responseFilter,
  responseTopic,
} from './topics.js';
