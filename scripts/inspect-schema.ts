// Prints the JSON Schema of `fleetpki inspect --json` (schemas/inspect.schema.json is this output;
// test/cli/inspect-schema.test.ts fails when the two differ):
//   node --import tsx scripts/inspect-schema.ts > schemas/inspect.schema.json
import { z } from 'zod';
import { InspectDocumentSchema } from '../src/cli/inspect/schema.js';

process.stdout.write(`${JSON.stringify(z.toJSONSchema(InspectDocumentSchema), null, 2)}\n`);
