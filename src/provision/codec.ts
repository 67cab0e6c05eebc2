import { Decoder, Encoder } from 'cbor-x';
import { z } from 'zod';
import { checkCbor } from './cbor-check.js';
import { ANSWER_ERROR_CODES, ProvisionError, type ProvisionErrorCode } from './errors.js';

/**
 * The provisioning messages (docs/provisioning.md) and their two encodings: JSON (binary values
 * as base64, RFC 4648 §4) and CBOR (RFC 8949; binary values as byte strings). Decoding is strict:
 * the payload size is capped before anything is parsed, CBOR is walked by `checkCbor` (depth,
 * item count, no tags or indefinite lengths) before the decoder sees it, and the decoded value
 * must fit the shape exactly (zod strict objects: an unknown field is an error, not ignored).
 *
 *   const bytes = encodeRequest({ requestId, template: 'sensor', attributes: {}, csr: csr.der }, 'cbor');
 *   const req = decodeRequest(bytes, 'cbor', { maxBytes: 16384 });   // ProvisionError on anything else
 */

/** Payload encodings; the request topic names it, the answer uses the same. */
export type PayloadFormat = 'json' | 'cbor';
/** Every PayloadFormat. */
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['json', 'cbor'];

/** Version of the message schema (`v` in every message). */
export const SCHEMA_VERSION = 1;

/** Fields every request carries. */
interface RequestBase {
  /** Chosen by the device, unique per request (retries reuse it): 8–64 of `A-Z a-z 0-9 . _ -`. */
  requestId: string;
  /** Provisioning template name. */
  template: string;
  /** Device attributes (serial number, model…): at most 16, values 1–256 printable characters. */
  attributes: Readonly<Record<string, string>>;
}

/** A device that made its own key: the CSR (PKCS#10 DER). */
export interface CsrRequest extends RequestBase {
  csr: Uint8Array;
}

/** A device that cannot make a CSR: the service generates the key and returns it once. */
export interface CreateKeyRequest extends RequestBase {
  createKey: Record<string, never>;
}

export type ProvisionRequest = CsrRequest | CreateKeyRequest;

/** A successful answer. */
export interface IssuedAnswer {
  requestId: string;
  /** DER certificates: the device's first, then the CA certificates up to (not including) the root. */
  certificates: Uint8Array[];
  /** The generated private key (PKCS#8 DER), only in the answer to a create-key request. */
  privateKey?: Uint8Array;
  /** The device's own topic tree (its certificate's CN under the fleet's device root). */
  deviceTopic: string;
  /** True when the request id was seen before and this is the certificate issued then. */
  replayed: boolean;
}

/** A refusal. `requestId` is absent when the payload was too broken to read one. */
export interface ErrorAnswer {
  requestId?: string;
  error: { code: ProvisionErrorCode; message: string };
}

export type ProvisionAnswer = IssuedAnswer | ErrorAnswer;

/** True when the answer is a refusal. */
export function isErrorAnswer(a: ProvisionAnswer): a is ErrorAnswer {
  return 'error' in a;
}

export const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
const TEMPLATE = /^[a-z][a-z0-9-]{0,39}$/;
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
// Printable: no C0/C1 controls, no DEL; values go into certificates and logs.
const ATTRIBUTE_VALUE = /^[^\p{Cc}]{1,256}$/u;
/** Most certificates in an answer (a leaf and a few CAs). */
const MAX_CERTIFICATES = 8;

/** Base64 text (RFC 4648 §4, padded, no whitespace) → bytes, or a zod issue. */
const base64 = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4)
    .transform((s, ctx) => {
      if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
        ctx.addIssue({ code: 'custom', message: 'not base64 (RFC 4648 §4, padded)' });
        return z.NEVER;
      }
      const b = Buffer.from(s, 'base64');
      // Non-canonical trailing bits would decode too; only the canonical text is accepted.
      if (b.toString('base64') !== s) {
        ctx.addIssue({ code: 'custom', message: 'not canonical base64' });
        return z.NEVER;
      }
      return new Uint8Array(b);
    });

const bytes = (maxBytes: number) =>
  z
    .instanceof(Uint8Array)
    .refine((b) => b.length <= maxBytes, `at most ${maxBytes} bytes`)
    .transform((b) => new Uint8Array(b));

const Attributes = z
  .record(
    z.string().regex(ATTRIBUTE_NAME, 'an attribute name'),
    z.string().regex(ATTRIBUTE_VALUE, '1–256 printable characters'),
  )
  .refine((a) => Object.keys(a).length <= 16, 'at most 16 attributes')
  .default({});

function requestSchema(bin: z.ZodType<Uint8Array>) {
  const base = {
    v: z.literal(SCHEMA_VERSION),
    requestId: z.string().regex(REQUEST_ID, '8 to 64 of A-Z a-z 0-9 . _ -'),
    template: z.string().regex(TEMPLATE, 'a template name'),
    attributes: Attributes,
  };
  return z.union([
    z.strictObject({ ...base, csr: bin }),
    z.strictObject({ ...base, createKey: z.strictObject({}) }),
  ]);
}

function answerSchema(bin: z.ZodType<Uint8Array>) {
  return z.union([
    z.strictObject({
      v: z.literal(SCHEMA_VERSION),
      requestId: z.string().regex(REQUEST_ID),
      certificates: z.array(bin).min(1).max(MAX_CERTIFICATES),
      privateKey: bin.optional(),
      deviceTopic: z.string().min(1).max(512),
      replayed: z.boolean(),
    }),
    z.strictObject({
      v: z.literal(SCHEMA_VERSION),
      requestId: z.string().regex(REQUEST_ID).optional(),
      error: z.strictObject({
        code: z.enum(ANSWER_ERROR_CODES as unknown as [ProvisionErrorCode, ...ProvisionErrorCode[]]),
        message: z.string().max(1024),
      }),
    }),
  ]);
}

const SCHEMAS = new Map<string, { request: z.ZodType; answer: z.ZodType }>();
function schemas(format: PayloadFormat, maxBytes: number) {
  const key = `${format}:${maxBytes}`;
  let s = SCHEMAS.get(key);
  if (!s) {
    const bin = format === 'json' ? base64(maxBytes) : bytes(maxBytes);
    s = {
      request: requestSchema(bin as z.ZodType<Uint8Array>),
      answer: answerSchema(bin as z.ZodType<Uint8Array>),
    };
    SCHEMAS.set(key, s);
  }
  return s;
}

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Options of the decoders. */
export interface DecodeOptions {
  /** Largest payload accepted (bytes). Default 16 KiB. */
  maxBytes?: number;
}

function parse(payload: Uint8Array, format: PayloadFormat, maxBytes: number): unknown {
  if (payload.length > maxBytes)
    throw new ProvisionError('payload-too-large', `payload of ${payload.length} bytes (at most ${maxBytes})`);
  if (format === 'cbor') {
    checkCbor(payload);
    try {
      return decoder.decode(payload);
    } catch (e) {
      throw new ProvisionError('malformed-payload', `CBOR: ${(e as Error).message}`, { cause: e });
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw new ProvisionError('malformed-payload', 'JSON: not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ProvisionError('malformed-payload', `JSON: ${(e as Error).message}`, { cause: e });
  }
}

function shape<T>(schema: z.ZodType, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data as T;
  const i = r.error.issues[0]!;
  const where = i.path.length ? i.path.join('.') : '(message)';
  const what = i.code === 'unrecognized_keys' ? `unknown field "${i.keys[0]}"` : i.message;
  throw new ProvisionError('malformed-payload', `${where}: ${what}`);
}

/**
 * A request payload → the request, or `ProvisionError` (`payload-too-large`, `malformed-payload`).
 * The request id of a payload that fails later checks can be read with `peekRequestId`.
 */
export function decodeRequest(
  payload: Uint8Array,
  format: PayloadFormat,
  o: DecodeOptions = {},
): ProvisionRequest {
  const max = o.maxBytes ?? 16_384;
  const v = shape<ProvisionRequest & { v: number }>(
    schemas(format, max).request,
    parse(payload, format, max),
  );
  const { v: _v, ...req } = v;
  return req as ProvisionRequest;
}

/** The `requestId` of a payload that decodes as an object with a well-formed one (to address a refusal). */
export function peekRequestId(
  payload: Uint8Array,
  format: PayloadFormat,
  maxBytes = 16_384,
): string | undefined {
  try {
    const v = parse(payload, format, maxBytes) as { requestId?: unknown } | null;
    const id = v && typeof v === 'object' ? v.requestId : undefined;
    return typeof id === 'string' && REQUEST_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** An answer payload → the answer (what the device client reads). */
export function decodeAnswer(
  payload: Uint8Array,
  format: PayloadFormat,
  o: DecodeOptions = {},
): ProvisionAnswer {
  const max = o.maxBytes ?? 65_536;
  const v = shape<ProvisionAnswer & { v: number }>(schemas(format, max).answer, parse(payload, format, max));
  const { v: _v, ...a } = v;
  return a as ProvisionAnswer;
}

/**
 * Binary values as base64 text, before JSON.stringify: a Buffer's own toJSON would otherwise turn it
 * into `{ type: 'Buffer', data: [...] }` before a replacer sees it. Messages are two levels deep.
 */
function base64Values(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(base64Values);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, base64Values(x)]));
  return v;
}

function encode(value: Record<string, unknown>, format: PayloadFormat): Uint8Array {
  if (format === 'cbor') return encoder.encode(value);
  return new TextEncoder().encode(JSON.stringify(base64Values(value)));
}

/** Encodes a request (what the device sends). */
export function encodeRequest(r: ProvisionRequest, format: PayloadFormat): Uint8Array {
  const body: Record<string, unknown> = { v: SCHEMA_VERSION, requestId: r.requestId, template: r.template };
  if (Object.keys(r.attributes).length > 0) body.attributes = { ...r.attributes };
  if ('csr' in r) body.csr = r.csr;
  else body.createKey = {};
  return encode(body, format);
}

/** Encodes an answer (what the service sends). */
export function encodeAnswer(a: ProvisionAnswer, format: PayloadFormat): Uint8Array {
  if (isErrorAnswer(a))
    return encode(
      {
        v: SCHEMA_VERSION,
        ...(a.requestId ? { requestId: a.requestId } : {}),
        error: { code: a.error.code, message: a.error.message.slice(0, 1024) },
      },
      format,
    );
  const body: Record<string, unknown> = {
    v: SCHEMA_VERSION,
    requestId: a.requestId,
    certificates: a.certificates,
  };
  if (a.privateKey) body.privateKey = a.privateKey;
  body.deviceTopic = a.deviceTopic;
  body.replayed = a.replayed;
  return encode(body, format);
}
