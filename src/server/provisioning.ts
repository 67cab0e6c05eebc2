import { readFileSync } from 'node:fs';
import { Counter } from 'prom-client';
import { CaError } from '../ca/errors.js';
import { ProvisioningService } from '../provision/service.js';
import type { ServiceExtension } from './service.js';

/**
 * `fleetpki serve --mqtt mqtts://HOST:PORT`: fleet provisioning over MQTT (src/provision/) mounted
 * into the CA service. Needs the configuration's `provisioning` section. The service starts even
 * when the broker is not reachable yet (it keeps reconnecting with backoff); answers are counted in
 * `fleetpki_provisioning_answers_total{outcome}` (`issued`, `replayed`, or the error code).
 */
export interface ProvisioningExtensionOptions {
  /** `mqtts://HOST:PORT`. */
  url: string;
  /** File of anchors for the broker's certificate (PEM); default the CA's own root. */
  brokerCaFile?: string;
}

export function provisioningExtension(o: ProvisioningExtensionOptions): ServiceExtension & {
  /** The running service (after start). */
  readonly service?: ProvisioningService;
} {
  let service: ProvisioningService | undefined;
  return {
    name: 'mqtt-provisioning',
    get service() {
      return service;
    },
    async start(ctx) {
      const config = ctx.authority.config.provisioning;
      if (!config)
        throw new CaError(
          'bad-config',
          '--mqtt needs a provisioning section in the configuration (claims, templates)',
          {
            path: 'provisioning',
          },
        );
      const answers = new Counter({
        name: 'fleetpki_provisioning_answers_total',
        help: 'MQTT provisioning answers by outcome (issued, replayed, or the error code)',
        labelNames: ['outcome'],
        registers: [ctx.metrics.registry],
      });
      service = await ProvisioningService.start({
        authority: ctx.authority,
        config,
        broker: { url: o.url, ca: o.brokerCaFile ? readFileSync(o.brokerCaFile, 'utf8') : undefined },
        logger: ctx.logger.child({ component: 'provisioning' }),
        onAnswer: (outcome) => answers.inc({ outcome }),
      });
    },
    async close() {
      await service?.close();
    },
  };
}
