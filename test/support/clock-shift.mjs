// Preload (`node --import ./test/support/clock-shift.mjs`) that shifts this process's wall clock,
// so that tests whose outcome depends on the clock crossing a second or a minute between two reads
// fail every time instead of once in a while. Selected by FLEETPKI_TEST_CLOCK:
//
//   second | minute            start 900 ms before the next whole second / minute
//   second,lead=50,rate=20     ... 50 ms before it, and run 20× faster than real time until it
//                              is `drift` ms (default lead + 1000) ahead of the real clock, then
//                              at real speed again
//
// Only Date (Date.now(), new Date(), Date()) is shifted: timers and performance.now() keep real
// time. The rate makes a boundary fall between two reads that are a few tens of milliseconds
// apart (a module-level `NOW` and a CRL signed in `before()`), which 900 ms alone rarely does.
// The drift is bounded: a rate left running would put a minute-long test file tens of minutes
// ahead of OpenSSL and Chromium, past any backdating and session lifetime, and fail tests for a
// skew no deployment has.
// Child processes (OpenSSL, Mosquitto, the CLI) keep the real clock: to them this process is a
// party whose clock is up to `lead` ms (plus the rate's drift) ahead — a relying party behind us.
// scripts/test.sh adds this preload when FLEETPKI_TEST_CLOCK is set.
const spec = process.env.FLEETPKI_TEST_CLOCK;
if (spec) {
  const [unitName, ...opts] = spec.split(',');
  const unit = { second: 1000, minute: 60_000 }[unitName];
  if (!unit) throw new Error(`FLEETPKI_TEST_CLOCK: unknown boundary "${unitName}" (second or minute)`);
  const param = (name, dflt) => {
    const o = opts.find((x) => x.startsWith(`${name}=`));
    const v = o === undefined ? dflt : Number(o.slice(name.length + 1));
    if (!Number.isFinite(v) || v < 0) throw new Error(`FLEETPKI_TEST_CLOCK: bad ${name} in "${spec}"`);
    return v;
  };
  const lead = param('lead', 900);
  const rate = param('rate', 1);
  if (lead >= unit) throw new Error(`FLEETPKI_TEST_CLOCK: lead must be below ${unit} ms`);
  const drift = param('drift', lead + 1000);
  const RealDate = Date;
  const realNow = RealDate.now;
  const t0 = realNow();
  // A boundary less the lead, never behind the real clock (children keep the real clock: to them
  // this process must be a party whose clock is ahead, by less than one unit plus the drift).
  let start = (Math.floor(t0 / unit) + 1) * unit - lead;
  if (start < t0) start += unit;
  const now = () => {
    const elapsed = realNow() - t0;
    return Math.floor(start + elapsed + Math.min(elapsed * Math.max(rate - 1, 0), drift));
  };
  function ShiftedDate(...args) {
    if (!new.target) return new RealDate(now()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [now()] : args, new.target);
  }
  ShiftedDate.prototype = RealDate.prototype;
  Object.defineProperty(RealDate.prototype, 'constructor', {
    value: ShiftedDate,
    writable: true,
    configurable: true,
  });
  ShiftedDate.now = now;
  ShiftedDate.parse = RealDate.parse;
  ShiftedDate.UTC = RealDate.UTC;
  globalThis.Date = ShiftedDate;
  // For test/infra/clock-shift.test.ts: where the shifted clock started.
  process.env.FLEETPKI_TEST_CLOCK_START = String(start);
}
