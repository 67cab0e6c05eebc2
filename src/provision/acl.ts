import type { ProvisioningConfig } from '../ca/provisioning-config.js';

/**
 * The broker ACL that fleet provisioning needs, as a `TopicLayout` for `writeBrokerConfig` /
 * `buildAcl` (mtls/acl.ts; the shape is repeated here so that provision/ does not depend on mtls/):
 *
 *   pattern readwrite <deviceRoot>/%u/#                 every device: its own tree only
 *   pattern read <root>/%u/response/%c/#                answers: only the client that asked
 *   user claim-<label>                                  each claim of the configuration
 *   topic write <root>/claim-<label>/request/#          …may only send requests
 *   user <serviceIdentity>                              the provisioning service
 *   topic read <root>/+/request/#
 *   topic write <root>/+/response/#
 *
 * Answers are confined by client id (`%c`) rather than by claim: devices of one batch share a
 * claim certificate, so a per-claim answer tree would let each read the others' answers — and a
 * "create key" answer holds a private key. The device picks a random client id and never
 * publishes it (requests are write-only for claims), so no other holder of the claim can take it.
 * The `%c` pattern applies to every client, but only the service writes there, and only under
 * claim identities. `%u` and `%c` must be single topic levels: device names are checked at
 * issuance (`checkDeviceIdentity`); Mosquitto refuses ACL access to client ids with `+` or `#`.
 */
export interface ProvisioningTopicLayout {
  deviceRoot: string;
  patterns: { access: 'read' | 'write' | 'readwrite'; topic: string }[];
  users: { username: string; comment: string; rules: { access: 'read' | 'write'; topic: string }[] }[];
}

/** The layout above for a provisioning configuration. */
export function provisioningTopicLayout(p: ProvisioningConfig): ProvisioningTopicLayout {
  const root = p.topicRoot;
  return {
    deviceRoot: p.deviceRoot,
    patterns: [{ access: 'read', topic: `${root}/%u/response/%c/#` }],
    users: [
      ...Object.values(p.claims).map((c) => ({
        username: c.identity,
        comment: `claim ${c.label}: provisioning requests only`,
        rules: [{ access: 'write' as const, topic: `${root}/${c.identity}/request/#` }],
      })),
      {
        username: p.serviceIdentity,
        comment: 'the fleetpki provisioning service',
        rules: [
          { access: 'read' as const, topic: `${root}/+/request/#` },
          { access: 'write' as const, topic: `${root}/+/response/#` },
        ],
      },
    ],
  };
}
