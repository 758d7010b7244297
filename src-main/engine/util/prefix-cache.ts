// A small LRU of prefix-stable random draws (LIME's coalitions, the shared pool): a draw's first n items do not
// depend on how many were drawn, so a longer draw can replace a shorter one under the same key without changing
// what any earlier caller got, and the seeds of one image's methods and checkpoints are generated once.
export class PrefixCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly limit: number, private readonly length: (value: T) => number) {}

  /** The draw under `key` with at least n items: the cached one, or generate(max(n, the cached length)). */
  get(key: string, n: number, generate: (n: number) => T): T {
    const cached = this.entries.get(key);
    const value = cached !== undefined && this.length(cached) >= n ? cached : generate(Math.max(n, cached === undefined ? 0 : this.length(cached)));
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }
}
