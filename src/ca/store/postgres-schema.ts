import type { Migration } from './sqlite-schema.js';

/**
 * The PostgreSQL schema as ordered migrations (applied like SQLite's, see `postgres-migrate.ts`),
 * in the connection's current schema (the first of its search_path). The same tables, columns
 * and invariants as `sqlite-schema.ts`, in PostgreSQL's terms:
 * - UNIQUE (serial, issuer_id) and UNIQUE (request_id);
 * - a certificate row starts `reserved`, moves only to `issued` or `void`, keeps what was reserved,
 *   and has `der` exactly when `issued` (CHECKs and triggers); rows are never deleted;
 * - CRL numbers only increase per issuer; stored CRLs carry a number given out;
 * - the audit log is append-only (no UPDATE, DELETE or TRUNCATE), gapless and linked: `audit_head`
 *   holds the last (seq, hash), and every writer locks that row first (FOR UPDATE), which makes
 *   appends — and every write batch — one after the other across instances;
 * - the counters behind statistics() are kept by triggers.
 * Trigger functions that read tables carry the schema's search_path, so that a session with another
 * search_path (psql, a migration tool) still reaches this schema's tables.
 * Text compared by range (serials, lower-cased names) uses the "C" collation: byte order, the same
 * as SQLite's, whatever the database's locale.
 */
const REASONS =
  "'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', " +
  "'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'";

const HOUR_MS = 3_600_000;
const GENESIS = '0'.repeat(64);

const V1 = `
CREATE FUNCTION fleetpki_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TABLE issuers (
  id text COLLATE "C" NOT NULL PRIMARY KEY,
  role text NOT NULL CHECK (role IN ('root', 'intermediate')),
  parent_id text COLLATE "C" REFERENCES issuers (id),
  status text NOT NULL CHECK (status IN ('active', 'retiring', 'retired')),
  certificate bytea NOT NULL,
  key_ref text NOT NULL,
  created_at bigint NOT NULL,
  crl_number bigint NOT NULL DEFAULT 0 CHECK (crl_number >= 0),
  CHECK (role = 'intermediate' OR parent_id IS NULL)
);

CREATE TRIGGER issuers_crl_number_increases BEFORE UPDATE OF crl_number ON issuers
FOR EACH ROW WHEN (NEW.crl_number <= OLD.crl_number)
EXECUTE FUNCTION fleetpki_refuse('CRL numbers only increase (RFC 5280 5.2.3)');

CREATE TRIGGER issuers_id_fixed BEFORE UPDATE OF id ON issuers
FOR EACH ROW EXECUTE FUNCTION fleetpki_refuse('an issuer id never changes');

CREATE TRIGGER issuers_kept BEFORE DELETE ON issuers
FOR EACH ROW EXECUTE FUNCTION fleetpki_refuse('issuers are retired, not deleted');

CREATE TABLE certificates (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  issuer_id text COLLATE "C" NOT NULL REFERENCES issuers (id),
  serial text COLLATE "C" NOT NULL CHECK (serial ~ '^([0-9a-f]{2}){1,32}$'),
  state text NOT NULL CHECK (state IN ('reserved', 'issued', 'void')),
  profile text COLLATE "C" NOT NULL,
  subject text NOT NULL,
  subject_lc text COLLATE "C" NOT NULL,
  cn_lc text COLLATE "C",
  sans text NOT NULL,
  not_before bigint NOT NULL,
  not_after bigint NOT NULL,
  requester text NOT NULL,
  request_id text COLLATE "C" UNIQUE,
  reserved_at bigint NOT NULL,
  listed_at bigint NOT NULL,
  tbs bytea,
  der bytea,
  fingerprint text,
  issued_at bigint,
  revoked_at bigint,
  revocation_reason text CHECK (revocation_reason IN (${REASONS})),
  invalidity_date bigint,
  UNIQUE (serial, issuer_id),
  CHECK ((state = 'issued') = (der IS NOT NULL)),
  CHECK ((der IS NULL) = (fingerprint IS NULL) AND (der IS NULL) = (issued_at IS NULL)),
  CHECK ((state = 'issued') = (tbs IS NULL)),
  CHECK (revoked_at IS NULL OR state = 'issued'),
  CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL)),
  CHECK (invalidity_date IS NULL OR revoked_at IS NOT NULL)
);

CREATE TRIGGER certificates_start_reserved BEFORE INSERT ON certificates
FOR EACH ROW WHEN (NEW.state <> 'reserved')
EXECUTE FUNCTION fleetpki_refuse('a certificate row starts reserved');

CREATE TRIGGER certificates_state_moves BEFORE UPDATE OF state ON certificates
FOR EACH ROW WHEN (NOT (OLD.state = NEW.state OR (OLD.state = 'reserved' AND NEW.state IN ('issued', 'void'))))
EXECUTE FUNCTION fleetpki_refuse('a certificate only moves reserved -> issued or void');

CREATE TRIGGER certificates_issued_fixed BEFORE UPDATE OF der, fingerprint, issued_at ON certificates
FOR EACH ROW WHEN (OLD.state = 'issued')
EXECUTE FUNCTION fleetpki_refuse('an issued certificate never changes');

CREATE TRIGGER certificates_identity_fixed
BEFORE UPDATE OF id, issuer_id, serial, profile, subject, subject_lc, cn_lc, sans, not_before, not_after,
  requester, request_id, reserved_at ON certificates
FOR EACH ROW EXECUTE FUNCTION fleetpki_refuse('what was reserved never changes');

CREATE TRIGGER certificates_kept BEFORE DELETE ON certificates
FOR EACH ROW EXECUTE FUNCTION fleetpki_refuse('certificate rows are never deleted');

CREATE TRIGGER certificates_not_truncated BEFORE TRUNCATE ON certificates
FOR EACH STATEMENT EXECUTE FUNCTION fleetpki_refuse('certificate rows are never deleted');

-- Sort indexes: (sort key, id), and the columns the usual filters read, so that finding a page's
-- ids from a cursor can be an index-only scan (the page's rows are fetched afterwards).
CREATE INDEX certificates_not_after ON certificates (not_after, id) INCLUDE (state, revoked_at);
CREATE INDEX certificates_listed ON certificates (listed_at, id) INCLUDE (state, revoked_at, not_after);
CREATE INDEX certificates_issuer_not_after ON certificates (issuer_id, not_after, id) INCLUDE (state, revoked_at);
CREATE INDEX certificates_issuer_listed ON certificates (issuer_id, listed_at, id)
  INCLUDE (state, revoked_at, not_after);
CREATE INDEX certificates_profile_not_after ON certificates (profile, not_after, id)
  INCLUDE (state, revoked_at, issuer_id);
CREATE INDEX certificates_profile_listed ON certificates (profile, listed_at, id)
  INCLUDE (state, revoked_at, not_after, issuer_id);
CREATE INDEX certificates_revoked_not_after ON certificates (not_after, id)
  INCLUDE (state, revocation_reason, issuer_id, profile) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_revoked_listed ON certificates (listed_at, id)
  INCLUDE (state, revocation_reason, issuer_id, profile) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_revoked_serial ON certificates (issuer_id, serial) WHERE revoked_at IS NOT NULL;
CREATE INDEX certificates_subject ON certificates (subject_lc);
CREATE INDEX certificates_cn ON certificates (cn_lc) WHERE cn_lc IS NOT NULL;
CREATE INDEX certificates_pending ON certificates (reserved_at) WHERE state = 'reserved';

-- One row per lower-cased SAN entry: found by name (the index) or by certificate (the key).
CREATE TABLE certificate_sans (
  certificate_id bigint NOT NULL REFERENCES certificates (id),
  san text COLLATE "C" NOT NULL,
  PRIMARY KEY (certificate_id, san)
);
CREATE INDEX certificate_sans_san ON certificate_sans (san, certificate_id);

CREATE TABLE status_changes (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  issuer_id text NOT NULL,
  serial text NOT NULL,
  at bigint NOT NULL
);

CREATE TABLE crls (
  issuer_id text COLLATE "C" NOT NULL REFERENCES issuers (id),
  crl_number bigint NOT NULL CHECK (crl_number >= 1),
  this_update bigint NOT NULL,
  next_update bigint NOT NULL,
  der bytea NOT NULL,
  PRIMARY KEY (issuer_id, crl_number)
);

CREATE FUNCTION fleetpki_crl_number_given_out() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF NEW.crl_number > (SELECT crl_number FROM issuers WHERE id = NEW.issuer_id) THEN
    RAISE EXCEPTION 'a CRL number the counter never gave out' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER crls_number_given_out BEFORE INSERT ON crls
FOR EACH ROW EXECUTE FUNCTION fleetpki_crl_number_given_out();

CREATE TABLE audit (
  seq bigint NOT NULL PRIMARY KEY CHECK (seq >= 1),
  time bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  result text NOT NULL,
  issuer_id text,
  serial text,
  fingerprint text,
  detail text,
  prev_hash text NOT NULL UNIQUE,
  hash text NOT NULL CHECK (length(hash) = 64)
);

CREATE TABLE audit_head (
  id integer NOT NULL PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS}');

CREATE FUNCTION fleetpki_audit_linked() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF NOT coalesce(CASE WHEN NEW.seq = 1 THEN NEW.prev_hash = '${GENESIS}'
                       ELSE NEW.prev_hash = (SELECT hash FROM audit WHERE seq = NEW.seq - 1) END, false) THEN
    RAISE EXCEPTION 'an audit record follows the last one: seq + 1, prev_hash = its hash'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_linked BEFORE INSERT ON audit
FOR EACH ROW EXECUTE FUNCTION fleetpki_audit_linked();

CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION fleetpki_refuse('the audit log is append-only');

CREATE TRIGGER audit_not_truncated BEFORE TRUNCATE ON audit
FOR EACH STATEMENT EXECUTE FUNCTION fleetpki_refuse('the audit log is append-only');

CREATE TABLE settings (
  key text NOT NULL PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE stat_expiry (
  hour bigint NOT NULL,
  issuer_id text COLLATE "C" NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (hour, issuer_id)
);

CREATE TABLE stat_revoked (
  issuer_id text COLLATE "C" NOT NULL,
  hold boolean NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (issuer_id, hold)
);

CREATE TABLE stat_issued (
  hour bigint NOT NULL PRIMARY KEY,
  n bigint NOT NULL
);

CREATE FUNCTION fleetpki_count_certificate() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF OLD.state = 'issued' AND OLD.revoked_at IS NULL THEN
    UPDATE stat_expiry SET n = n - 1 WHERE hour = OLD.not_after / ${HOUR_MS} AND issuer_id = OLD.issuer_id;
  ELSIF OLD.state = 'issued' THEN
    UPDATE stat_revoked SET n = n - 1
      WHERE issuer_id = OLD.issuer_id AND hold = (OLD.revocation_reason = 'certificateHold');
  END IF;
  IF NEW.state = 'issued' AND NEW.revoked_at IS NULL THEN
    INSERT INTO stat_expiry (hour, issuer_id, n) VALUES (NEW.not_after / ${HOUR_MS}, NEW.issuer_id, 1)
      ON CONFLICT (hour, issuer_id) DO UPDATE SET n = stat_expiry.n + 1;
  ELSIF NEW.state = 'issued' THEN
    INSERT INTO stat_revoked (issuer_id, hold, n) VALUES (NEW.issuer_id, NEW.revocation_reason = 'certificateHold', 1)
      ON CONFLICT (issuer_id, hold) DO UPDATE SET n = stat_revoked.n + 1;
  END IF;
  IF OLD.state <> 'issued' AND NEW.state = 'issued' THEN
    INSERT INTO stat_issued (hour, n) VALUES (NEW.issued_at / ${HOUR_MS}, 1)
      ON CONFLICT (hour) DO UPDATE SET n = stat_issued.n + 1;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER certificates_counted AFTER UPDATE OF state, revoked_at, revocation_reason ON certificates
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
  OR OLD.revocation_reason IS DISTINCT FROM NEW.revocation_reason)
EXECUTE FUNCTION fleetpki_count_certificate();
`;

/** Requests held for manual approval: decided once, never deleted (as `sqlite-schema.ts` V2). */
const V2 = `
CREATE TABLE pending_requests (
  id text COLLATE "C" NOT NULL PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
  profile text NOT NULL,
  requester text NOT NULL,
  csr bytea NOT NULL,
  subject text NOT NULL,
  sans text NOT NULL,
  validity_days integer,
  created_at bigint NOT NULL,
  decided_by text,
  decided_at bigint,
  reason text,
  CHECK ((state = 'pending') = (decided_at IS NULL))
);

CREATE INDEX pending_requests_by_state ON pending_requests (state, created_at, id);

CREATE TRIGGER pending_requests_start_pending BEFORE INSERT ON pending_requests
FOR EACH ROW WHEN (NEW.state <> 'pending')
EXECUTE FUNCTION fleetpki_refuse('a request is stored pending');

CREATE TRIGGER pending_requests_decided_once BEFORE UPDATE ON pending_requests
FOR EACH ROW WHEN (OLD.state <> 'pending' OR NEW.id IS DISTINCT FROM OLD.id OR NEW.csr IS DISTINCT FROM OLD.csr)
EXECUTE FUNCTION fleetpki_refuse('a pending request is decided once and otherwise never changes');

CREATE TRIGGER pending_requests_kept BEFORE DELETE ON pending_requests
FOR EACH ROW EXECUTE FUNCTION fleetpki_refuse('pending requests are decided, not deleted');

CREATE TRIGGER pending_requests_not_truncated BEFORE TRUNCATE ON pending_requests
FOR EACH STATEMENT EXECUTE FUNCTION fleetpki_refuse('pending requests are decided, not deleted');
`;

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'certificates, issuers, CRLs, audit chain, settings, counters', sql: V1 },
  { version: 2, description: 'requests held for manual approval', sql: V2 },
];
