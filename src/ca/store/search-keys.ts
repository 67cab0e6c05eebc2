import { OID } from '../../der/oid-names.js';
import { parseRfc4514 } from '../../x509/name.js';

/**
 * What a reservation is found by: its subject and CN lower-cased for case-insensitive prefix
 * search, and its SAN entries lower-cased (one row each in the SAN index). Computed on the
 * caller's thread when a reservation is queued (the writer thread stays free of the X.509 code).
 */
export interface SearchKeys {
  subjectLc: string;
  cnLc: string | null;
  sansLc: string[];
}

export function searchKeys(subject: string, sans: readonly string[]): SearchKeys {
  return {
    subjectLc: subject.toLowerCase(),
    cnLc: commonName(subject)?.toLowerCase() ?? null,
    sansLc: [...new Set(sans.map((s) => s.toLowerCase()))],
  };
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
