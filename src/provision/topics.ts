import { PAYLOAD_FORMATS, type PayloadFormat } from './codec.js';

/**
 * The provisioning topic tree (docs/provisioning.md), under a root (default `provisioning`):
 *
 *   <root>/<claim>/request/<format>                      MQTT 5: answer on the Response Topic
 *                                                        property, Correlation Data echoed
 *   <root>/<claim>/request/<format>/<clientId>/<token>   MQTT 3.1.1 (or 5 without a Response Topic):
 *   <root>/<claim>/response/<clientId>/<token>           … answered here
 *
 * `<claim>` is the claim identity (`claim-<label>`): the broker's ACL lets only a client whose
 * certificate CN is that identity publish under `<root>/<claim>/request/`, so the topic a request
 * arrives on proves which claim sent it. Answers go under `<root>/<claim>/response/<clientId>/`,
 * which the ACL lets only the client with that client id (and that claim) read: devices sharing one
 * claim certificate cannot read each other's answers. `<format>` is `json` or `cbor`.
 */

/** A client id or token level: what devices generate (random), one topic level, no wildcards. */
const LEVEL = /^[A-Za-z0-9_-]{1,64}$/;
const CLAIM = /^claim-[a-z0-9][a-z0-9-]{0,39}$/;

/** What a request topic says. */
export interface RequestTopic {
  claim: string;
  format: PayloadFormat;
  /** The derived answer topic of the per-request (MQTT 3.1.1) form. */
  responseTopic?: string;
}

/** The topic a request is published on; with `perRequest`, the MQTT 3.1.1 form. */
export function requestTopic(
  root: string,
  claim: string,
  format: PayloadFormat,
  perRequest?: { clientId: string; token: string },
): string {
  const base = `${root}/${claim}/request/${format}`;
  return perRequest ? `${base}/${perRequest.clientId}/${perRequest.token}` : base;
}

/** The topic an answer is published on. */
export function responseTopic(root: string, claim: string, clientId: string, token: string): string {
  return `${root}/${claim}/response/${clientId}/${token}`;
}

/** The filter a device subscribes to for its answers. */
export function responseFilter(root: string, claim: string, clientId: string): string {
  return `${root}/${claim}/response/${clientId}/#`;
}

/** The filter the service subscribes to: every claim's requests. */
export function requestFilter(root: string): string {
  return `${root}/+/request/#`;
}

/** True when `s` can be a client id or token level of the tree. */
export function isTopicToken(s: string): boolean {
  return LEVEL.test(s);
}

/** Splits a request topic; undefined for anything else (another tree, a bad claim, format or level). */
export function parseRequestTopic(root: string, topic: string): RequestTopic | undefined {
  if (!topic.startsWith(`${root}/`)) return undefined;
  const levels = topic.slice(root.length + 1).split('/');
  if (levels.length !== 3 && levels.length !== 5) return undefined;
  const [claim, kind, format, clientId, token] = levels as [string, string, string, string?, string?];
  if (!CLAIM.test(claim) || kind !== 'request' || !PAYLOAD_FORMATS.includes(format as PayloadFormat))
    return undefined;
  if (levels.length === 3) return { claim, format: format as PayloadFormat };
  if (!LEVEL.test(clientId!) || !LEVEL.test(token!)) return undefined;
  return {
    claim,
    format: format as PayloadFormat,
    responseTopic: responseTopic(root, claim, clientId!, token!),
  };
}

/**
 * True when an MQTT 5 Response Topic lies in the claim's own answer tree
 * (`<root>/<claim>/response/<clientId>/<token>`): the service never publishes elsewhere on a
 * device's word, so one claim cannot make it write into another claim's tree.
 */
export function isClaimResponseTopic(root: string, claim: string, topic: string): boolean {
  const prefix = `${root}/${claim}/response/`;
  if (!topic.startsWith(prefix)) return false;
  const rest = topic.slice(prefix.length).split('/');
  return rest.length === 2 && rest.every((l) => LEVEL.test(l));
}
