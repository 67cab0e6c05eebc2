import { DerError } from '../../der/errors.js';
import { X509Error } from '../errors.js';
import type { Extension } from './types.js';

/**
 * The table of extensions we decode. A codec turns an extnValue into its typed value and back.
 * Unknown extensions stay raw (with their critical flag); decoding a known one that is malformed
 * is an `X509Error('bad-extension')` naming the extension and the offset.
 */
export interface ExtensionCodec<T = unknown> {
  oid: string;
  /** RFC name, e.g. "basicConstraints". */
  name: string;
  /** Decodes extnValue content. `offset` is the absolute offset of the content (for errors). */
  parse(value: Uint8Array, offset: number): T;
  /** Encodes the typed value as extnValue content. */
  encode(v: T): Uint8Array;
}

const CODECS = new Map<string, ExtensionCodec>();

export function registerExtension<T>(codec: ExtensionCodec<T>): void {
  CODECS.set(codec.oid, codec as ExtensionCodec);
}

export function extensionCodec(oid: string): ExtensionCodec | undefined {
  return CODECS.get(oid);
}

export function extensionName(oid: string): string | undefined {
  return CODECS.get(oid)?.name;
}

/** Decodes a known extension; undefined for unknown OIDs. Malformed → X509Error bad-extension. */
export function decodeExtension(ext: Extension, offset = 0): unknown {
  const c = CODECS.get(ext.oid);
  if (!c) return undefined;
  try {
    return c.parse(ext.value, offset);
  } catch (e) {
    if (e instanceof DerError)
      throw new X509Error('bad-extension', `${c.name}: ${bareMessage(e)}`, e.offset, [c.name, ...e.path]);
    if (e instanceof X509Error && e.code !== 'bad-extension')
      throw new X509Error('bad-extension', `${c.name}: ${bareMessage(e)}`, e.offset, [
        c.name,
        ...(e.path ?? []),
      ]);
    throw e;
  }
}

/** The message without the " (offset N)" suffix the error classes append (re-added by the wrapper). */
function bareMessage(e: DerError | X509Error): string {
  const suffix = e.offset === undefined ? '' : ` (offset ${e.offset})`;
  return suffix && e.message.endsWith(suffix) ? e.message.slice(0, -suffix.length) : e.message;
}
