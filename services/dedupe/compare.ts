import { jaroWinkler } from '@skyra/jaro-winkler';
import { doubleMetaphone } from 'double-metaphone';
import { distance } from 'fastest-levenshtein';
import { LRUCache } from 'lru-cache';
import { isFreeMailDomain, type MatchRecord } from './match-record.ts';
import { type Levels, type MatchModel, matchProbability, totalWeight } from './model.ts';
import { nicknameEquivalent } from './nicknames.ts';

/** A MatchRecord plus what comparison derives from it, computed once per record. */
export interface Prepared {
  rec: MatchRecord;
  /**
   * The name a person is called by: the first word of the first-name field, so a middle name or initial
   * ("John A.", "John Andrew") does not hide "John"; a leading initial gives way to the next word
   * ("J. Robert" → "robert").
   */
  given: string;
  /** The whole first-name field as one token: what is compared with a surname when names are swapped. */
  firstJoined: string;
  /** Codes of firstJoined (used when it stands in for a surname). */
  firstCodes: [string, string];
  lastCodes: [string, string];
  /** Email local part without +tag, dots, dashes, underscores and digits: "j.smith87+crm" -> "jsmith". */
  emailLocal: string;
  emailDomain: string;
  emailIsFree: boolean;
}

export interface Comparison {
  levels: Levels;
  weight: number;
  probability: number;
  /** The names matched with first and last swapped. */
  swapped: boolean;
}

/**
 * Double-metaphone codes by folded name. Names follow a steep frequency curve (a list holds many
 * Smiths and Johns), so a bounded cache saves most of the encoding work.
 */
const codesCache = new LRUCache<string, [string, string]>({ max: 50_000 });
function codesOf(name: string): [string, string] {
  if (!name) return ['', ''];
  let codes = codesCache.get(name);
  if (!codes) {
    codes = doubleMetaphone(name);
    codesCache.set(name, codes);
  }
  return codes;
}

function givenName(first: string): string {
  const [head, next] = first.split(' ');
  if (head && head.length === 1 && next) return next;
  return head ?? '';
}

export function prepare(rec: MatchRecord): Prepared {
  const at = rec.email.lastIndexOf('@');
  const local = at < 0 ? '' : rec.email.slice(0, at);
  return {
    rec,
    given: givenName(rec.first),
    firstJoined: rec.first.replace(/ /g, ''),
    firstCodes: codesOf(rec.first.replace(/ /g, '')),
    lastCodes: codesOf(rec.last),
    emailLocal: local.replace(/\+.*$/, '').replace(/[._\-0-9]/g, ''),
    emailDomain: at < 0 ? '' : rec.email.slice(at + 1),
    emailIsFree: at >= 0 && isFreeMailDomain(rec.email.slice(at + 1)),
  };
}

/** Same sound: a double-metaphone code of one equals a code of the other. */
function soundsAlike(a: [string, string], b: [string, string]): boolean {
  if (!a[0] || !b[0]) return false;
  return a[0] === b[0] || a[0] === b[1] || a[1] === b[0];
}

/** One edit (typo) away, or Jaro-Winkler close: catches transpositions and dropped letters. */
function nearlyEqual(a: string, b: string, jw: number): boolean {
  if (Math.min(a.length, b.length) >= 4 && distance(a, b) <= 1) return true;
  return jaroWinkler(a, b) >= jw;
}

type FirstAgreement = 'exact' | 'nickname' | 'fuzzy' | 'initial' | 'differ' | 'missing';
type LastAgreement = 'exact' | 'fuzzy' | 'differ' | 'missing';

function firstAgreement(a: string, b: string): FirstAgreement {
  if (!a || !b) return 'missing';
  if (a === b) return 'exact';
  if (nicknameEquivalent(a, b)) return 'nickname';
  // No phonetic test here: Jane, John, Joan and Jean share a metaphone; only spelling slips count.
  if (a.length > 1 && b.length > 1 && nearlyEqual(a, b, 0.9)) return 'fuzzy';
  if ((a.length === 1 || b.length === 1) && a[0] === b[0]) return 'initial';
  return 'differ';
}

function lastAgreement(a: string, b: string, ac: [string, string], bc: [string, string]): LastAgreement {
  if (!a || !b) return 'missing';
  if (a === b) return 'exact';
  if (nearlyEqual(a, b, 0.92) || soundsAlike(ac, bc)) return 'fuzzy';
  return 'differ';
}

/**
 * First and last name judged together: two different people at one company share a first name or a
 * surname often, both rarely, so the two are not independent evidence and get one joint level.
 */
function nameLevel(f: FirstAgreement, l: LastAgreement): Levels['name'] {
  if (f === 'missing' && l === 'missing') return 'missing';
  const firstAgrees = f === 'exact' || f === 'nickname' || f === 'fuzzy';
  const lastAgrees = l === 'exact' || l === 'fuzzy';
  if (f === 'exact' && l === 'exact') return 'exact';
  if ((l === 'exact' && firstAgrees) || (l === 'fuzzy' && f === 'exact')) return 'strong';
  if (
    (lastAgrees && (firstAgrees || f === 'initial' || f === 'missing')) ||
    (firstAgrees && l === 'missing')
  ) {
    return 'weak';
  }
  if (lastAgrees) return 'last_only';
  if (firstAgrees) return 'first_only';
  return 'differ';
}

function emailLevel(a: Prepared, b: Prepared): Levels['email'] {
  if (!a.rec.email || !b.rec.email) return 'missing';
  if (a.rec.email === b.rec.email) return 'exact';
  // The same mailbox name at a personal provider and at work (or at two personal providers). Two work
  // domains are two employers, one domain with two local parts two mailboxes, and a short local part
  // ("john") says too little to count.
  const personalAndOther =
    a.emailIsFree !== b.emailIsFree || (a.emailIsFree && a.emailDomain !== b.emailDomain);
  if (personalAndOther && a.emailLocal.length >= 5 && a.emailLocal === b.emailLocal) return 'local';
  return 'differ';
}

/** Domain's first label: "acme" for acme.co.uk, the usual stand-in for a missing company name. */
function domainLabel(domain: string): string {
  return domain.split('.')[0] ?? '';
}

function companyLevel(a: MatchRecord, b: MatchRecord): Levels['company'] {
  if (!a.company || !b.company) {
    const [named, other] = a.company ? [a, b] : [b, a];
    if (named.company && other.domain && domainLabel(other.domain) === named.company) return 'fuzzy';
    return 'missing';
  }
  return companyKeyLevel(a.company, b.company);
}

function companyKeyLevel(a: string, b: string): Levels['company'] {
  if (a === b) return 'exact';
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if ((short.length >= 4 && long.startsWith(short)) || nearlyEqual(a, b, 0.93)) return 'fuzzy';
  return 'differ';
}

/** Titles compare as sorted word sets, so "Director, Operations" equals "Operations Director". */
function titleLevel(a: string, b: string): Levels['title'] {
  if (!a || !b) return 'missing';
  const wa = a.split(' ').sort().join(' ');
  const wb = b.split(' ').sort().join(' ');
  if (wa === wb) return 'exact';
  return jaroWinkler(wa, wb) >= 0.88 ? 'similar' : 'differ';
}

function exactLevel(a: string, b: string): 'exact' | 'differ' | 'missing' {
  if (!a || !b) return 'missing';
  return a === b ? 'exact' : 'differ';
}

/**
 * The joint name level in one orientation. Swapped, either record may be the one typed the wrong way
 * round, and its first-name field then holds a surname (perhaps of several words: "Van der Berg"), so
 * both readings are tried and the stronger kept.
 */
function namesIn(a: Prepared, b: Prepared, swapped: boolean): Levels['name'] {
  if (!swapped) {
    return nameLevel(
      firstAgreement(a.given, b.given),
      lastAgreement(a.rec.last, b.rec.last, a.lastCodes, b.lastCodes),
    );
  }
  const bTurned = nameLevel(
    firstAgreement(a.given, b.rec.last),
    lastAgreement(a.rec.last, b.firstJoined, a.lastCodes, b.firstCodes),
  );
  const aTurned = nameLevel(
    firstAgreement(a.rec.last, b.given),
    lastAgreement(a.firstJoined, b.rec.last, a.firstCodes, b.lastCodes),
  );
  return NAME_STRENGTH[aTurned] > NAME_STRENGTH[bTurned] ? aTurned : bTurned;
}

const NAME_STRENGTH: Record<Levels['name'], number> = {
  exact: 6,
  strong: 5,
  weak: 4,
  last_only: 3,
  first_only: 2,
  differ: 1,
  missing: 0,
};

/**
 * Agreement levels and match probability of two records. Names are also tried with first and last
 * swapped ("Smith John" vs "John Smith"); the swap counts only when it makes both names agree, so
 * "Smith Mary" against "Shirley Smith" cannot turn a shared surname into a shared first name.
 */
export function compare(a: Prepared, b: Prepared, model: MatchModel): Comparison {
  let name = namesIn(a, b, false);
  let swapped = false;
  if (name !== 'exact') {
    const other = namesIn(a, b, true);
    if (
      (other === 'exact' || other === 'strong' || other === 'weak') &&
      NAME_STRENGTH[other] > NAME_STRENGTH[name]
    ) {
      name = other;
      swapped = true;
    }
  }
  const levels: Levels = {
    email: emailLevel(a, b),
    name,
    company: companyLevel(a.rec, b.rec),
    domain: exactLevel(a.rec.domain, b.rec.domain),
    phone: exactLevel(a.rec.phone, b.rec.phone),
    title: titleLevel(a.rec.title, b.rec.title),
    linkedin: exactLevel(a.rec.linkedin, b.rec.linkedin),
    country: exactLevel(a.rec.country, b.rec.country),
  };
  const weight = totalWeight(model, levels);
  return { levels, weight, probability: matchProbability(model, weight), swapped };
}
