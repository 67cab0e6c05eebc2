// Must be the page's first import: zod compiles object parsers with `new Function` unless told not
// to when a schema is built, and the dashboard's CSP (no 'unsafe-eval', Trusted Types) forbids that —
// even zod's probe for it would be reported as a violation.
import { config } from 'zod';

config({ jitless: true });
