// `npm run bench -- [name...] [--list]`: runs bench/<name>.bench.ts (parse, issue, verify, ocsp, ...)
// each in its own Node process, so one benchmark's JIT and heap state cannot colour the next.
// With no name, runs them all in turn.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const args = process.argv.slice(2);
if (args.includes('--list') || args.includes('--help')) {
  console.log(`usage: npm run bench -- [name...]\navailable: ${available.join(', ') || '(none yet)'}`);
  process.exit(0);
}
const unknown = args.filter((a) => !available.includes(a));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark: ${unknown.join(', ')}; available: ${available.join(', ') || '(none yet)'}`,
  );
  process.exit(2);
}
const selected = args.length > 0 ? args : available;
if (selected.length === 0) {
  console.error('no benchmarks yet (bench/*.bench.ts)');
  process.exit(2);
}

const failed: string[] = [];
for (const name of selected) {
  console.log(`\n=== bench: ${name} (node ${process.version}) ===`);
  // process.execArgv carries `--import tsx` from the npm script.
  const r = spawnSync(process.execPath, [...process.execArgv, `${dir}${name}.bench.ts`], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed.push(`${name} (${r.error?.message ?? r.signal ?? `exit ${r.status}`})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
