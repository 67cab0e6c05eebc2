import { MtlsError } from './errors.js';

/**
 * Mosquitto ACL files (mosquitto.conf(5) `acl_file`): who may read and write which topics.
 *
 * With `use_identity_as_username true` the broker takes each client's username from its
 * certificate's CN, so the ACL is written in terms of identities the CA issued:
 * - every device gets its own tree, `pattern readwrite <deviceRoot>/%u/#` — one line for the whole
 *   fleet, so enrolling a device needs no ACL change;
 * - named identities (services, and the claim identities of fleet provisioning) get `user`
 *   sections with exactly their topics.
 * Mosquitto applies `pattern` lines to every client, named users included: a claim identity
 * `claim-0001` may thus also use `devices/claim-0001/#` — a tree no device owns as long as device
 * and claim identities come from disjoint name spaces, which `claimAclUser` enforces on its side
 * (a prefix) and the CA's issuance policy must enforce on the device side.
 *
 * The CA must also refuse device names that are not one topic level: Mosquitto (2.0.11, tested)
 * substitutes `%u` verbatim, so a certificate with CN `device-a/x` may write under
 * `devices/device-a/x/#` — inside `device-a`'s tree. `isTopicLevelName` is the check to apply at
 * issuance to any name that will become an MQTT username.
 */

/**
 * True when `name` can safely stand for `%u` in a pattern: a non-empty single MQTT topic level
 * without wildcards (MQTT 3.1.1 §4.7: `/` separates levels, `+` and `#` are wildcards), without
 * control characters or whitespace, and at most 256 characters.
 */
export function isTopicLevelName(name: string): boolean {
  return /^[^\s/+#\x00-\x1f\x7f]{1,256}$/u.test(name);
}

export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny';

export interface AclRule {
  access: AclAccess;
  /** An MQTT topic filter (`+`/`#` wildcards; in patterns, `%u` = username, `%c` = client id). */
  topic: string;
}

export interface AclUser {
  username: string;
  rules: readonly AclRule[];
  /** A comment line written above the section. */
  comment?: string;
}

/** The topic layout an ACL is generated from. */
export interface TopicLayout {
  /** Root of the per-device trees: each device owns `<deviceRoot>/<username>/#`. Default `devices`. */
  deviceRoot?: string;
  /** What a device may do in its own tree. Default `readwrite`. */
  deviceAccess?: Exclude<AclAccess, 'deny'>;
  /** More pattern rules for every client. */
  patterns?: readonly AclRule[];
  /** Named identities with their own rules (services, claim identities). */
  users?: readonly AclUser[];
}

/** Options for a claim identity's provisioning topics (fleet provisioning over MQTT). */
export interface ClaimAclOptions {
  /** Root of the provisioning topics. Default `provisioning`. */
  provisioningRoot?: string;
  /** Prefix every claim identity's name must carry, keeping it apart from device names. Default `claim-`. */
  prefix?: string;
}

/**
 * The rules of one claim identity: publish its requests under `<root>/<username>/request/#`,
 * read answers under `<root>/<username>/response/#` — and nothing else of the fleet's.
 */
export function claimAclUser(username: string, o: ClaimAclOptions = {}): AclUser {
  const prefix = o.prefix ?? 'claim-';
  if (!username.startsWith(prefix))
    throw new MtlsError('bad-configuration', `claim identity "${username}" must start with "${prefix}"`);
  const root = o.provisioningRoot ?? 'provisioning';
  return {
    username,
    comment: 'claim identity: provisioning topics only',
    rules: [
      { access: 'write', topic: `${root}/${username}/request/#` },
      { access: 'read', topic: `${root}/${username}/response/#` },
    ],
  };
}

/** A name that can stand on one ACL line: printable, no spaces, no wildcards or separators. */
function checkUsername(u: string): void {
  if (!isTopicLevelName(u))
    throw new MtlsError('bad-configuration', `username "${u}" cannot be written to an ACL line`);
}

/** MQTT 3.1.1 §4.7: `#` only as the last level, `+` only as a whole level; no NUL, no line breaks. */
function checkTopic(t: string, pattern: boolean): void {
  if (t.length === 0 || t.length > 65535 || /[\0\r\n]/.test(t) || /^\s|\s$/.test(t))
    throw new MtlsError('bad-configuration', `invalid topic filter "${t}"`);
  const levels = t.split('/');
  levels.forEach((l, i) => {
    if ((l.includes('#') && (l !== '#' || i !== levels.length - 1)) || (l.includes('+') && l !== '+'))
      throw new MtlsError('bad-configuration', `invalid wildcard in topic filter "${t}"`);
    if (pattern && /%[uc]/.test(l) && l !== '%u' && l !== '%c')
      throw new MtlsError(
        'bad-configuration',
        `%u/%c must be a whole level in "${t}" (mosquitto substitutes only whole levels)`,
      );
  });
}

function line(kind: 'topic' | 'pattern', r: AclRule): string {
  checkTopic(r.topic, kind === 'pattern');
  return `${kind} ${r.access} ${r.topic}`;
}

/** The text of an ACL file for `layout` (see the header). Throws `bad-configuration` on an unusable name or topic. */
export function buildAcl(layout: TopicLayout = {}): string {
  const root = layout.deviceRoot ?? 'devices';
  const out = [
    '# Generated by fleetpki. Usernames are certificate CNs (use_identity_as_username).',
    '# Every device: its own tree only.',
    line('pattern', { access: layout.deviceAccess ?? 'readwrite', topic: `${root}/%u/#` }),
  ];
  for (const p of layout.patterns ?? []) out.push(line('pattern', p));
  const seen = new Set<string>();
  for (const u of layout.users ?? []) {
    checkUsername(u.username);
    if (seen.has(u.username)) throw new MtlsError('bad-configuration', `user "${u.username}" listed twice`);
    seen.add(u.username);
    out.push('');
    if (u.comment) out.push(`# ${u.comment.replace(/[\r\n]+/g, ' ')}`);
    out.push(`user ${u.username}`);
    for (const r of u.rules) out.push(line('topic', r));
  }
  return `${out.join('\n')}\n`;
}
