/**
 * The SQLite schema as an ordered list of migrations. `version` N is applied once, in a
 * transaction, after N − 1, and recorded in `schema_version`; a store whose highest version is
 * above the last one here is refused (`schema-too-new`). Never edit a released step: add one.
 *
 * What the database enforces itself, whoever writes to it:
 * - `UNIQUE (serial, issuer_id)`: one certificate per serial and issuer (serial first so the same
 *   index serves `findBySerial` and serial-prefix search);
 * - a certificate row is inserted `reserved` and only moves `reserved` → `issued` or `void`; `der`,
 *   `fingerprint` and `issued_at` are present exactly when `issued` and never change after; the
 *   reserved TBSCertificate is kept until then (its bytes are inside `der` afterwards); rows are
 *   never deleted;
 * - CRL numbers only increase per issuer (RFC 5280 §5.2.3), and a stored CRL carries a number the
 *   counter gave out;
 * - the audit log is append-only (no UPDATE, no DELETE), `seq` runs 1, 2, 3… and each record's
 *   `prev_hash` is the previous record's `hash` (checked on insert); UNIQUE (prev_hash) rules out
 *   forks. The SHA-256 itself is checked by `fleetpki audit verify` (SQLite has no SHA-256).
 * - counters for `statistics()` are maintained by triggers, so they cannot drift from the rows.
 */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

const REASONS =
  "'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', " +
  "'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'";

/** Epoch ms → UTC hour buckets (integer division; times are after 1970). */
const HOUR_MS = 3_600_000;

const V1 = `
CREATE TABLE issuers (
  id TEXT NOT NULL PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('root', 'intermediate')),
  parent_id TEXT REFERENCES issuers (id),
  status TEXT NOT NULL CHECK (status IN ('active', 'retiring', 'retired')),
  certificate BLOB NOT NULL,
  key_ref TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  crl_number INTEGER NOT NULL DEFAULT 0 CHECK (crl_number >= 0),
  CHECK (role = 'intermediate' OR parent_id IS NULL)
) STRICT;

CREATE TRIGGER issuers_crl_number_increases BEFORE UPDATE OF crl_number ON issuers
WHEN NEW.crl_number <= OLD.crl_number
BEGIN SELECT RAISE(ABORT, 'CRL numbers only increase (RFC 5280 5.2.3)'); END;

CREATE TRIGGER issuers_id_fixed BEFORE UPDATE OF id ON issuers
BEGIN SELECT RAISE(ABORT, 'an issuer id never changes'); END;

CREATE TRIGGER issuers_kept BEFORE DELETE ON issuers
BEGIN SELECT RAISE(ABORT, 'issuers are retired, not deleted'); END;

CREATE TABLE certificates (
  id INTEGER PRIMARY KEY,
  issuer_id TEXT NOT NULL REFERENCES issuers (id),
  serial TEXT NOT NULL
    CHECK (length(serial) BETWEEN 2 AND 64 AND length(serial) % 2 = 0 AND NOT serial GLOB '*[^0-9a-f]*'),
  state TEXT NOT NULL CHECK (state IN ('reserved', 'issued', 'void')),
  profile TEXT NOT NULL,
  subject TEXT NOT NULL,
  subject_lc TEXT NOT NULL,
  cn_lc TEXT,
  sans TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  requester TEXT NOT NULL,
  request_id TEXT UNIQUE,
  reserved_at INTEGER NOT NULL,
  listed_at INTEGER NOT NULL,
  tbs BLOB,
  der BLOB,
  fingerprint TEXT,
  issued_at INTEGER,
  revoked_at INTEGER,
  revocation_reason TEXT CHECK (revocation_reason IN (${REASONS})),
  invalidity_date INTEGER,
  UNIQUE (serial, issuer_id),
  CHECK ((state = 'issued') = (der IS NOT NULL)),
  CHECK ((der IS NULL) = (fingerprint IS NULL) AND (der IS NULL) = (issued_at IS NULL)),
  CHECK ((state = 'issued') = (tbs IS NULL)),
  CHECK (revoked_at IS NULL OR state = 'issued'),
  CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL)),
  CHECK (invalidity_date IS NULL OR revoked_at IS NOT NULL)
) STRICT;

CREATE TRIGGER certificates_start_reserved BEFORE INSERT ON certificates
WHEN NEW.state <> 'reserved'
BEGIN SELECT RAISE(ABORT, 'a certificate row starts reserved'); END;

CREATE TRIGGER certificates_state_moves BEFORE UPDATE OF state ON certificates
WHEN NOT (OLD.state = NEW.state OR (OLD.state = 'reserved' AND NEW.state IN ('issued', 'void')))
BEGIN SELECT RAISE(ABORT, 'a certificate only moves reserved -> issued or void'); END;

CREATE TRIGGER certificates_issued_fixed BEFORE UPDATE OF der, fingerprint, issued_at ON certificates
WHEN OLD.state = 'issued'
BEGIN SELECT RAISE(ABORT, 'an issued certificate never changes'); END;

CREATE TRIGGER certificates_identity_fixed
BEFORE UPDATE OF id, issuer_id, serial, profile, subject, subject_lc, cn_lc, sans, not_before, not_after,
  requester, request_id, reserved_at ON certificates
BEGIN SELECT RAISE(ABORT, 'what was reserved never changes'); END;

CREATE TRIGGER certificates_kept BEFORE DELETE ON certificates
BEGIN SELECT RAISE(ABORT, 'certificate rows are never deleted'); END;

-- Sort indexes: (sort key, id) then the columns the usual filters read, so that walking one from a
-- cursor checks state, revocation and expiry in the index and reads only the rows it returns.
CREATE INDEX certificates_not_after ON certificates (not_after, id, state, revoked_at);
CREATE INDEX certificates_listed ON certificates (listed_at, id, state, revoked_at, not_after);
CREATE INDEX certificates_issuer_not_after ON certificates (issuer_id, not_after, id, state, revoked_at);
CREATE INDEX certificates_issuer_listed ON certificates (issuer_id, listed_at, id, state, revoked_at, not_after);
CREATE INDEX certificates_profile_not_after
  ON certificates (profile, not_after, id, state, revoked_at, issuer_id);
CREATE INDEX certificates_profile_listed
  ON certificates (profile, listed_at, id, state, revoked_at, not_after, issuer_id);
CREATE INDEX certificates_revoked_not_after ON certificates (not_after, id, revocation_reason, issuer_id, profile)
  WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_revoked_listed ON certificates (listed_at, id, revocation_reason, issuer_id, profile)
  WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_revoked_serial ON certificates (issuer_id, serial) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_subject ON certificates (subject_lc);
CREATE INDEX certificates_cn ON certificates (cn_lc) WHERE cn_lc IS NOT NULL;
CREATE INDEX certificates_pending ON certificates (reserved_at) WHERE state = 'reserved';

-- One row per lower-cased SAN entry: found by name (the index) or by certificate (the key).
CREATE TABLE certificate_sans (
  certificate_id INTEGER NOT NULL REFERENCES certificates (id),
  san TEXT NOT NULL,
  PRIMARY KEY (certificate_id, san)
) STRICT, WITHOUT ROWID;
CREATE INDEX certificate_sans_san ON certificate_sans (san);

CREATE TABLE status_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  issuer_id TEXT NOT NULL,
  serial TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;

CREATE TABLE crls (
  issuer_id TEXT NOT NULL REFERENCES issuers (id),
  crl_number INTEGER NOT NULL CHECK (crl_number >= 1),
  this_update INTEGER NOT NULL,
  next_update INTEGER NOT NULL,
  der BLOB NOT NULL,
  PRIMARY KEY (issuer_id, crl_number)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER crls_number_given_out BEFORE INSERT ON crls
WHEN NEW.crl_number > (SELECT crl_number FROM issuers WHERE id = NEW.issuer_id)
BEGIN SELECT RAISE(ABORT, 'a CRL number the counter never gave out'); END;

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY CHECK (seq >= 1),
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  result TEXT NOT NULL,
  issuer_id TEXT,
  serial TEXT,
  fingerprint TEXT,
  detail TEXT,
  prev_hash TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;

CREATE TRIGGER audit_linked BEFORE INSERT ON audit
WHEN NOT coalesce(
  CASE WHEN NEW.seq = 1 THEN NEW.prev_hash = '${'0'.repeat(64)}'
       ELSE NEW.prev_hash = (SELECT hash FROM audit WHERE seq = NEW.seq - 1) END, 0)
BEGIN SELECT RAISE(ABORT, 'an audit record follows the last one: seq + 1, prev_hash = its hash'); END;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE settings (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Counters behind statistics(): issued, unrevoked certificates per issuer and UTC hour of notAfter;
-- revoked ones per issuer (hold apart); completions per UTC hour of issued_at. Hours, not days:
-- the hour around \`now\` is the only one counted from rows, and an hour of expiries is small.
CREATE TABLE stat_expiry (
  issuer_id TEXT NOT NULL,
  hour INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (hour, issuer_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE stat_revoked (
  issuer_id TEXT NOT NULL,
  hold INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (issuer_id, hold)
) STRICT, WITHOUT ROWID;

CREATE TABLE stat_issued (
  hour INTEGER NOT NULL PRIMARY KEY,
  n INTEGER NOT NULL
) STRICT;

CREATE TRIGGER certificates_counted AFTER UPDATE OF state, revoked_at, revocation_reason ON certificates
WHEN OLD.state IS NOT NEW.state OR OLD.revoked_at IS NOT NEW.revoked_at
  OR OLD.revocation_reason IS NOT NEW.revocation_reason
BEGIN
  UPDATE stat_expiry SET n = n - 1
    WHERE OLD.state = 'issued' AND OLD.revoked_at IS NULL
      AND issuer_id = OLD.issuer_id AND hour = OLD.not_after / ${HOUR_MS};
  UPDATE stat_revoked SET n = n - 1
    WHERE OLD.state = 'issued' AND OLD.revoked_at IS NOT NULL
      AND issuer_id = OLD.issuer_id AND hold = (OLD.revocation_reason = 'certificateHold');
  INSERT INTO stat_expiry (issuer_id, hour, n)
    SELECT NEW.issuer_id, NEW.not_after / ${HOUR_MS}, 1 WHERE NEW.state = 'issued' AND NEW.revoked_at IS NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO stat_revoked (issuer_id, hold, n)
    SELECT NEW.issuer_id, NEW.revocation_reason = 'certificateHold', 1
    WHERE NEW.state = 'issued' AND NEW.revoked_at IS NOT NULL
    ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO stat_issued (hour, n)
    SELECT NEW.issued_at / ${HOUR_MS}, 1 WHERE OLD.state <> 'issued' AND NEW.state = 'issued'
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
`;

/**
 * Requests held for manual approval (profiles with `approval: manual`). A request is decided once
 * (`pending` → `approved` | `rejected`) and never deleted: the decision is part of the record.
 */
const V2 = `
CREATE TABLE pending_requests (
  id TEXT NOT NULL PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
  profile TEXT NOT NULL,
  requester TEXT NOT NULL,
  csr BLOB NOT NULL,
  subject TEXT NOT NULL,
  sans TEXT NOT NULL,
  validity_days INTEGER,
  created_at INTEGER NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  reason TEXT,
  CHECK ((state = 'pending') = (decided_at IS NULL))
) STRICT;

CREATE INDEX pending_requests_by_state ON pending_requests (state, created_at, id);

CREATE TRIGGER pending_requests_start_pending BEFORE INSERT ON pending_requests
WHEN NEW.state <> 'pending'
BEGIN SELECT RAISE(ABORT, 'a request is stored pending'); END;

CREATE TRIGGER pending_requests_decided_once BEFORE UPDATE ON pending_requests
WHEN OLD.state <> 'pending' OR NEW.id IS NOT OLD.id OR NEW.csr IS NOT OLD.csr
BEGIN SELECT RAISE(ABORT, 'a pending request is decided once and otherwise never changes'); END;

CREATE TRIGGER pending_requests_kept BEFORE DELETE ON pending_requests
BEGIN SELECT RAISE(ABORT, 'pending requests are decided, not deleted'); END;
`;

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'certificates, issuers, CRLs, audit chain, settings, counters', sql: V1 },
  { version: 2, description: 'requests held for manual approval', sql: V2 },
];
