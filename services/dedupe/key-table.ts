/**
 * String key → a non-negative integer, held as a 64-bit hash of the key in typed arrays with open
 * addressing, so the key strings themselves are not kept. An open batch's blocking keys are 1.2 KB of
 * the 2.6 KB a lead cost in the index as strings in a Map (about 9 keys per lead, most held by that lead
 * alone); here a key is 12 bytes per slot outside the V8 heap, which the collector never walks.
 *
 * Two keys with one hash would count as one key. The hash is 64 bits wide: among the 10 million keys
 * of a million-lead batch the chance that any two share one is about 3 in 10^6, and for blocking keys
 * the effect would be two blocks read as one (a few more pairs compared), the same on every run.
 */
export class KeyTable {
  private high: Uint32Array;
  private low: Uint32Array;
  /** The value of each slot plus one; 0 marks an empty slot. */
  private values: Int32Array;
  private count = 0;

  constructor(initialCapacity = 1 << 12) {
    this.high = new Uint32Array(initialCapacity);
    this.low = new Uint32Array(initialCapacity);
    this.values = new Int32Array(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  get(key: string): number | undefined {
    hash(key);
    const at = this.find(HASH[0] as number, HASH[1] as number);
    const v = this.values[at] as number;
    return v === 0 ? undefined : v - 1;
  }

  /** Sets the key's value (at most 2^31 - 2). */
  set(key: string, value: number): void {
    hash(key);
    const h = HASH[0] as number;
    const l = HASH[1] as number;
    let at = this.find(h, l);
    if (this.values[at] === 0) {
      // Kept at most three quarters full, so probe runs stay short.
      if (4 * (this.count + 1) > 3 * this.values.length) {
        this.grow();
        at = this.find(h, l);
      }
      this.high[at] = h;
      this.low[at] = l;
      this.count++;
    }
    this.values[at] = value + 1;
  }

  /** The slot holding the hash, else the empty slot where it would go. */
  private find(h: number, l: number): number {
    const mask = this.values.length - 1;
    let at = l & mask;
    while (this.values[at] !== 0 && (this.high[at] !== h || this.low[at] !== l)) at = (at + 1) & mask;
    return at;
  }

  private grow(): void {
    const { high, low, values } = this;
    this.high = new Uint32Array(values.length * 2);
    this.low = new Uint32Array(values.length * 2);
    this.values = new Int32Array(values.length * 2);
    for (let i = 0; i < values.length; i++) {
      if (values[i] === 0) continue;
      const at = this.find(high[i] as number, low[i] as number);
      this.high[at] = high[i] as number;
      this.low[at] = low[i] as number;
      this.values[at] = values[i] as number;
    }
  }
}

/** The last hash computed: two 32-bit halves, returned through here so that hashing allocates nothing. */
const HASH = new Uint32Array(2);

/**
 * 64-bit hash of a string: two multiplicative lanes over its UTF-16 code units, each mixed with the
 * other at the end (the cyrb53 construction, both lanes kept whole).
 */
function hash(s: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  HASH[0] = h1;
  HASH[1] = h2;
}
