export * from './bytes.js';
export { DerError, type DerErrorCode } from './errors.js';
export { decodeOid, encodeOid, MAX_OID_LENGTH } from './oid.js';
export { OID, oidName } from './oid-names.js';
export { type BitString, DEFAULT_LIMITS, type DerLimits, DerReader, parseDer, type Tlv } from './reader.js';
export { decodeString, isPrintableString, STRING_TAGS } from './strings.js';
export { contextConstructed, contextPrimitive, isConstructed, Tag, tagName } from './tags.js';
export {
  decodeGeneralizedTime,
  decodeUtcTime,
  encodeGeneralizedTime,
  encodeUtcTime,
  useUtcTime,
} from './time.js';
export { type DerNode, walkDer } from './walk.js';
export { DerWriter, encodeDer } from './writer.js';
