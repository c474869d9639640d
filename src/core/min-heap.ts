/** A binary min-heap ordered by a comparator; the building block of every deadline list in the engine. */
export class MinHeap<T> {
  private readonly items: T[] = []

  constructor(private readonly before: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.before(items[i], items[parent]) >= 0) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }

  pop(): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop() as T
    if (items.length > 0) {
      items[0] = last
      this.siftDown(0)
    }
    return top
  }

  /** Replace the content in O(n). */
  rebuild(content: T[]): void {
    this.items.length = 0
    this.items.push(...content)
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private siftDown(start: number): void {
    const items = this.items
    const n = items.length
    let i = start
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < n && this.before(items[left], items[smallest]) < 0) smallest = left
      if (right < n && this.before(items[right], items[smallest]) < 0) smallest = right
      if (smallest === i) return
      ;[items[i], items[smallest]] = [items[smallest], items[i]]
      i = smallest
    }
  }
}
