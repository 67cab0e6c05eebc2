/**
 * Typed errors of fleet provisioning over MQTT. The first group are the codes the service puts
 * into an error answer (`{ error: { code, message } }`, docs/provisioning.md): they are API, for
 * devices as much as for people. The second group are the device client's own failures. Messages
 * are for humans and may change.
 */
export type ProvisionErrorCode =
  // ---- answers: the request itself ---------------------------------------------------------------
  /** The payload is not a request of the documented shape (not JSON/CBOR, wrong fields or types, bad base64). */
  | 'malformed-payload'
  /** The payload is larger than the service accepts (`maxPayloadBytes`), or a CBOR item is nested too deeply. */
  | 'payload-too-large'
  /** The template does not exist. */
  | 'unknown-template'
  /** The claim identity may not use this template. */
  | 'template-not-allowed'
  /** A device attribute the template requires is missing. */
  | 'missing-attribute'
  /** A device attribute is not one the template declares, or its value does not match the template's pattern. */
  | 'bad-attribute'
  /** The device's serial number is not on the template's pre-provisioning allow-list. */
  | 'not-on-allow-list'
  /** The CSR is not a well-formed PKCS#10 request, or its signature does not verify (RFC 2986 §3). */
  | 'bad-csr'
  /** The CSR's subject does not match the template's subject rules. */
  | 'subject-not-allowed'
  /** A subjectAltName entry does not match the template's SAN patterns (or a required SAN is missing). */
  | 'san-not-allowed'
  /** The template does not offer the "create key and certificate" variant. */
  | 'create-key-not-allowed'
  /** A "create key" request id that was answered before: the key was delivered once and is not kept. */
  | 'key-already-delivered'
  /** The request id was used before by this claim for a different request (another key or subject). */
  | 'request-conflict'
  /** The Authority refused the request under its profile (the CA's own code is in the message). */
  | 'ca-refused'
  // ---- answers: the claim -----------------------------------------------------------------------
  /** The claim identity is not in the provisioning configuration. */
  | 'unknown-claim'
  /** No claim certificate of this identity is valid any more (revoked or expired). */
  | 'claim-revoked'
  /** The claim identity sent more requests than its token bucket allows; retry later. */
  | 'rate-limited'
  // ---- answers: the service ---------------------------------------------------------------------
  /** The service has too many requests in progress; retry later. */
  | 'busy'
  /** The service could not complete the request (store or CA unavailable); retry later. */
  | 'unavailable'
  // ---- device client ----------------------------------------------------------------------------
  /** The caller's input cannot be used (a bad URL, a claim certificate without a claim CN, a bad option). */
  | 'bad-input'
  /** The broker refused the connection, or the TLS handshake failed (e.g. a revoked claim certificate). */
  | 'connect-failed'
  /** The broker refused a subscription or publication (MQTT 5 reason code, or 0x80 in a 3.1.1 SUBACK). */
  | 'not-authorized'
  /** No answer within the time allowed. */
  | 'timeout'
  /** The answer could not be decoded or does not fit the request (wrong key, chain that does not validate). */
  | 'bad-answer';

/** Every code an answer may carry (the first three groups above). */
export const ANSWER_ERROR_CODES: readonly ProvisionErrorCode[] = [
  'malformed-payload',
  'payload-too-large',
  'unknown-template',
  'template-not-allowed',
  'missing-attribute',
  'bad-attribute',
  'not-on-allow-list',
  'bad-csr',
  'subject-not-allowed',
  'san-not-allowed',
  'create-key-not-allowed',
  'key-already-delivered',
  'request-conflict',
  'ca-refused',
  'unknown-claim',
  'claim-revoked',
  'rate-limited',
  'busy',
  'unavailable',
];

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
  constructor(
    readonly code: ProvisionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
