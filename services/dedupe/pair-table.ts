/**
 * Numbers by pair key (a positive integer below 2^53), in two typed arrays with open addressing. A
 * batch of a million leads compares tens of millions of pairs: a Map stops at 2^24 entries and keeps
 * each one as heap objects the collector must walk; here an entry is 16 bytes outside the V8 heap.
 */
export class PairTable {
  private keys: Float64Array;
  private values: Float64Array;
  private count = 0;

  constructor(private readonly initialCapacity = 1 << 12) {
    this.keys = new Float64Array(initialCapacity);
    this.values = new Float64Array(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  get(key: number): number | undefined {
    const at = this.find(this.keys, key);
    return this.keys[at] === key ? this.values[at] : undefined;
  }

  set(key: number, value: number): void {
    if (key <= 0) throw new RangeError(`pair key must be positive, got ${key}`);
    let at = this.find(this.keys, key);
    if (this.keys[at] !== key) {
      // Kept at most half full, so probe runs stay short.
      if (2 * (this.count + 1) > this.keys.length) {
        this.grow();
        at = this.find(this.keys, key);
      }
      this.keys[at] = key;
      this.count++;
    }
    this.values[at] = value;
  }

  clear(): void {
    this.keys = new Float64Array(this.initialCapacity);
    this.values = new Float64Array(this.initialCapacity);
    this.count = 0;
  }

  /** The slot holding key, else the empty slot where it would go (0 marks an empty slot). */
  private find(keys: Float64Array, key: number): number {
    const mask = keys.length - 1;
    const high = Math.floor(key / 2 ** 32);
    let h = Math.imul((key >>> 0) ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1);
    h ^= h >>> 15;
    let at = h & mask;
    while (keys[at] !== 0 && keys[at] !== key) at = (at + 1) & mask;
    return at;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Float64Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as number;
      if (key === 0) continue;
      const at = this.find(this.keys, key);
      this.keys[at] = key;
      this.values[at] = values[i] as number;
    }
  }
}
