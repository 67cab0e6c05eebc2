import { OID } from '../../der/oid-names.js';
import type { DerReader } from '../../der/reader.js';
import { Tag } from '../../der/tags.js';
import { type DerWriter, encodeDer } from '../../der/writer.js';
import { X509Error } from '../errors.js';
import { fail, parseValue } from './common.js';
import type {
  CertificatePolicies,
  DisplayTextType,
  PolicyInformation,
  PolicyQualifierInfo,
  UserNotice,
} from './types.js';

/**
 * RFC 5280 §4.2.1.4 certificatePolicies (2.5.29.32):
 *   certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
 *   PolicyInformation ::= SEQUENCE { policyIdentifier OID,
 *                                    policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL }
 *   PolicyQualifierInfo ::= SEQUENCE { policyQualifierId OID, qualifier ANY DEFINED BY policyQualifierId }
 *     id-qt-cps (1.3.6.1.5.5.7.2.1):     CPSuri ::= IA5String
 *     id-qt-unotice (1.3.6.1.5.5.7.2.2): UserNotice ::= SEQUENCE { noticeRef NoticeReference OPTIONAL,
 *                                                                  explicitText DisplayText OPTIONAL }
 *   NoticeReference ::= SEQUENCE { organization DisplayText, noticeNumbers SEQUENCE OF INTEGER }
 *   DisplayText ::= CHOICE { ia5String, visibleString, bmpString, utf8String }  (SIZE 1..200)
 *
 * Strict: empty lists (`empty-sequence`); a policy OID appearing twice (`bad-extension`, §4.2.1.4
 * "MUST NOT appear more than once"); a DisplayText of another string type (`unexpected-tag`).
 * Every qualifier keeps its TLV in `qualifier`; CPS and UserNotice are also decoded. Unknown
 * qualifier ids stay raw.
 * Tolerance: the DisplayText 200-character limit is not enforced — RFC 6818 §3 notes CAs exceed
 * it and tells relying parties to handle longer text gracefully.
 */
export function parseCertificatePolicies(value: Uint8Array, offset = 0): CertificatePolicies {
  return parseValue(value, offset, (r) => {
    const s = r.readSequence('certificatePolicies');
    const out: PolicyInformation[] = [];
    const seen = new Set<string>();
    s.forEach('PolicyInformation', (e) => {
      const at = e.pos;
      const p = e.readSequence('PolicyInformation');
      const policyIdentifier = p.readOid('policyIdentifier');
      if (seen.has(policyIdentifier))
        fail(e, 'bad-extension', `policy ${policyIdentifier} appears more than once (RFC 5280 §4.2.1.4)`, at);
      seen.add(policyIdentifier);
      const info: PolicyInformation = { policyIdentifier };
      if (!p.atEnd()) {
        const qOff = p.pos;
        const qs = p.readSequence('policyQualifiers');
        const quals: PolicyQualifierInfo[] = [];
        qs.forEach('PolicyQualifierInfo', (q) => quals.push(readQualifier(q)));
        if (quals.length === 0)
          fail(p, 'empty-sequence', 'policyQualifiers must not be empty', qOff, 'policyQualifiers');
        info.policyQualifiers = quals;
      }
      p.finish();
      out.push(info);
    });
    if (out.length === 0) fail(r, 'empty-sequence', 'certificatePolicies must not be empty', 0);
    return out;
  });
}

function readQualifier(r: DerReader): PolicyQualifierInfo {
  const q = r.readSequence('PolicyQualifierInfo');
  const policyQualifierId = q.readOid('policyQualifierId');
  const at = q.pos;
  let out: PolicyQualifierInfo;
  if (policyQualifierId === OID.cps) {
    const cpsUri = q.readStringOf(Tag.IA5String, 'cPSuri');
    out = { policyQualifierId, qualifier: q.bytes.subarray(at, q.pos), cpsUri };
  } else if (policyQualifierId === OID.userNotice) {
    const userNotice = readUserNotice(q);
    out = { policyQualifierId, qualifier: q.bytes.subarray(at, q.pos), userNotice };
  } else out = { policyQualifierId, qualifier: q.readAny('qualifier').der };
  q.finish();
  return out;
}

const DISPLAY_TEXT: Record<number, DisplayTextType> = {
  [Tag.IA5String]: 'ia5String',
  [Tag.VisibleString]: 'visibleString',
  [Tag.BMPString]: 'bmpString',
  [Tag.UTF8String]: 'utf8String',
};
const DISPLAY_TEXT_TAGS: ReadonlySet<number> = new Set([
  Tag.IA5String,
  Tag.VisibleString,
  Tag.BMPString,
  Tag.UTF8String,
]);

function readDisplayText(r: DerReader, name: string): { text: string; type: DisplayTextType } {
  const { tag, value } = r.readString(name, DISPLAY_TEXT_TAGS);
  return { text: value, type: DISPLAY_TEXT[tag]! };
}

function readUserNotice(r: DerReader): UserNotice {
  const u = r.readSequence('UserNotice');
  const out: UserNotice = {};
  if (u.peekTag() === Tag.SEQUENCE) {
    const n = u.readSequence('noticeRef');
    const org = readDisplayText(n, 'organization');
    const nums = n.readSequence('noticeNumbers');
    const noticeNumbers: number[] = [];
    nums.forEach('noticeNumber', (e) => noticeNumbers.push(e.readSmallInt('noticeNumber')));
    n.finish();
    out.noticeRef = { organization: org.text, noticeNumbers, organizationType: org.type };
  }
  if (!u.atEnd()) {
    const t = readDisplayText(u, 'explicitText');
    out.explicitText = t.text;
    out.explicitTextType = t.type;
  }
  u.finish();
  return out;
}

function writeDisplayText(w: DerWriter, text: string, type: DisplayTextType = 'utf8String'): void {
  switch (type) {
    case 'utf8String':
      w.utf8String(text);
      return;
    case 'ia5String':
      w.ia5String(text);
      return;
    case 'visibleString':
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c < 0x20 || c > 0x7e) throw new X509Error('cannot-encode', `"${text}" is not a VisibleString`);
      }
      w.ia5String(text, Tag.VisibleString);
      return;
    case 'bmpString': {
      const b = new Uint8Array(text.length * 2);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdfff)
          throw new X509Error('cannot-encode', 'BMPString cannot hold characters beyond U+FFFF');
        b[2 * i] = c >> 8;
        b[2 * i + 1] = c & 0xff;
      }
      w.tlv(Tag.BMPString, b);
      return;
    }
  }
}

function writeQualifier(w: DerWriter, q: PolicyQualifierInfo): void {
  w.sequence((w) => {
    w.oid(q.policyQualifierId);
    if (q.policyQualifierId === OID.cps && q.cpsUri !== undefined) w.ia5String(q.cpsUri);
    else if (q.policyQualifierId === OID.userNotice && q.userNotice) {
      const u = q.userNotice;
      w.sequence((w) => {
        if (u.noticeRef)
          w.sequence((w) => {
            writeDisplayText(w, u.noticeRef!.organization, u.noticeRef!.organizationType);
            w.sequence((w) => {
              for (const n of u.noticeRef!.noticeNumbers) w.integer(n);
            });
          });
        if (u.explicitText !== undefined) writeDisplayText(w, u.explicitText, u.explicitTextType);
      });
    } else w.raw(q.qualifier);
  });
}

/**
 * Encodes the policies. Typed qualifiers (`cpsUri`, `userNotice`) are written from their fields;
 * any other qualifier is written from its raw `qualifier` TLV.
 */
export function encodeCertificatePolicies(v: CertificatePolicies): Uint8Array {
  if (v.length === 0) throw new X509Error('cannot-encode', 'certificatePolicies must not be empty');
  const seen = new Set<string>();
  for (const p of v) {
    if (seen.has(p.policyIdentifier))
      throw new X509Error('cannot-encode', `policy ${p.policyIdentifier} appears more than once`);
    seen.add(p.policyIdentifier);
    if (p.policyQualifiers && p.policyQualifiers.length === 0)
      throw new X509Error('cannot-encode', 'policyQualifiers must be absent or non-empty');
  }
  return encodeDer((w) =>
    w.sequence((w) => {
      for (const p of v)
        w.sequence((w) => {
          w.oid(p.policyIdentifier);
          if (p.policyQualifiers)
            w.sequence((w) => {
              for (const q of p.policyQualifiers!) writeQualifier(w, q);
            });
        });
    }),
  );
}
