import { OID } from '../../der/oid-names.js';
import { parseRfc4514 } from '../../x509/name.js';

/**
 * What a reservation is found by: its subject and CN lower-cased for case-insensitive prefix
 * search, and its SAN entries lower-cased (one row each in the SAN index). Computed on the
 * caller's thread when a reservation is queued (the writer thread stays free of the X.509 code).
 *
 * `cnLc` is kept only when the subject text does not already begin with `cn=<the CN>`: for the
 * usual subject (`CN=device-…,O=…`) a CN prefix is a subject prefix after `cn=`, so the subject
 * index answers both and a second index on random names — one more page written per issuance —
 * is not needed (see `subjectCondition` in search.ts).
 */
export interface SearchKeys {
  subjectLc: string;
  /** The lower-cased CN when the subject text does not lead with it; otherwise null. */
  cnLc: string | null;
  sansLc: string[];
}

export function searchKeys(subject: string, sans: readonly string[]): SearchKeys {
  const subjectLc = subject.toLowerCase();
  let cnLc = commonName(subject)?.toLowerCase() ?? null;
  if (cnLc !== null && leadsWithCn(subjectLc, cnLc)) cnLc = null;
  return { subjectLc, cnLc, sansLc: [...new Set(sans.map((s) => s.toLowerCase()))] };
}

/** The characters that end or escape an RFC 4514 attribute value (§2.4) — never inside a plain leading CN. */
export const RDN_SPECIALS = /[,+\\;"<>=#]/;

/** `subjectLc` is `cn=<cnLc>` followed by the end of the RDN, with the CN written without escapes. */
function leadsWithCn(subjectLc: string, cnLc: string): boolean {
  if (RDN_SPECIALS.test(cnLc) || !subjectLc.startsWith(`cn=${cnLc}`)) return false;
  const next = subjectLc[3 + cnLc.length];
  return next === undefined || next === ',' || next === '+';
}

/**
 * The CN of an RFC 4514 subject: the first one in the text (the most specific RDN, RFC 4514 §2.1
 * writes the last RDN first). Undefined when there is none or the text does not parse.
 */
export function commonName(subject: string): string | undefined {
  let rdns: ReturnType<typeof parseRfc4514>;
  try {
    rdns = parseRfc4514(subject);
  } catch {
    return undefined;
  }
  for (let i = rdns.length - 1; i >= 0; i--) {
    const cn = rdns[i]!.find((a) => a.type === OID.commonName && a.der === undefined);
    if (cn) return cn.value;
  }
  return undefined;
}
