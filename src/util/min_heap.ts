/**
 * A binary min-heap: the smallest item first, by a comparison function. For schedules where one
 * timer serves many due times (items are never removed from the middle: a caller skips stale
 * ones when they come out).
 */
export class MinHeap<T> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => number;

  /** `compare(a, b)` is negative when `a` comes before `b`. */
  constructor(compare: (a: T, b: T) => number) {
    this.#less = compare;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  clear(): void {
    this.#items.length = 0;
  }

  push(item: T): void {
    const items = this.#items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#less(items[parent], item) <= 0) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && this.#less(items[child + 1], items[child]) < 0) child++;
      if (this.#less(items[child], last) >= 0) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
    return top;
  }
}
