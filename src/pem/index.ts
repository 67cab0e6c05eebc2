export { Base64Error, base64Decode, base64Encode } from './base64.js';
export {
  decodePem,
  decodePemOne,
  encodePem,
  looksLikePem,
  MAX_PEM_BLOCKS,
  type PemBlock,
  PemError,
  type PemErrorCode,
} from './pem.js';
