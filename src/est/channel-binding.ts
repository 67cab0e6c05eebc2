import type { TLSSocket } from 'node:tls';

/**
 * TLS channel bindings for EST's proof that a CSR was made on this very connection (RFC 7030 §3.5:
 * the client puts the binding, base64, into the CSR's challengePassword; a CSR replayed over another
 * TLS session then carries the wrong value).
 *
 * - TLS 1.2: `tls-unique` (RFC 5929 §3.1), the first Finished message of the latest handshake —
 *   the client's in a full handshake, the server's in a resumed one. Node exposes both Finished
 *   messages (`getFinished()` ours, `getPeerFinished()` the peer's).
 * - TLS 1.3: `tls-exporter` (RFC 9266 §2): 32 bytes exported with the label
 *   `EXPORTER-Channel-Binding` and no context (`exportKeyingMaterial` without its context
 *   argument), since tls-unique is not defined for TLS 1.3 (RFC 8446 §C.5).
 */
export interface ChannelBinding {
  type: 'tls-unique' | 'tls-exporter';
  value: Buffer;
}

/** The binding of a connected TLS socket, seen from `side`; undefined before the handshake or for TLS ≤ 1.1. */
export function channelBinding(socket: TLSSocket, side: 'server' | 'client'): ChannelBinding | undefined {
  const version = socket.getProtocol();
  if (version === 'TLSv1.3') {
    // Node's typings require the context; at run time an omitted one means "no context" (RFC 9266 §2).
    const exportNoContext = socket.exportKeyingMaterial as (length: number, label: string) => Buffer;
    return { type: 'tls-exporter', value: exportNoContext.call(socket, 32, 'EXPORTER-Channel-Binding') };
  }
  if (version !== 'TLSv1.2') return undefined;
  // The client's Finished comes first in a full handshake, the server's in a resumption.
  const clientFinishedFirst = !socket.isSessionReused();
  const ours = side === 'client' ? clientFinishedFirst : !clientFinishedFirst;
  const value = ours ? socket.getFinished() : socket.getPeerFinished();
  return value ? { type: 'tls-unique', value } : undefined;
}

/** The challengePassword text that carries a binding (RFC 7030 §3.5: base64). */
export function bindingPassword(b: ChannelBinding): string {
  return b.value.toString('base64');
}
