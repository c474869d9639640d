/**
 * A short, bounded description of an untrusted value for error messages and logs: never the whole value
 * (a bad request must not be echoed back in full), never recursive (a value nested 10,000 deep must not
 * overflow the stack). Strings are quoted and cut at 60 characters; arrays and objects are described by
 * their size and first keys.
 */
export function previewValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length <= 60
      ? JSON.stringify(value)
      : `${JSON.stringify(value.slice(0, 60))}… (${value.length} characters)`
  }
  if (value === undefined) return 'undefined'
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`
  if (typeof value === 'object') {
    const keys = Object.keys(value)
    if (keys.length === 0) return 'an empty object {}'
    const shown = keys.slice(0, 5).map((k) => JSON.stringify(k.length <= 30 ? k : `${k.slice(0, 30)}…`))
    return `an object with key${keys.length === 1 ? '' : 's'} ${shown.join(', ')}${keys.length > 5 ? `, … (${keys.length} keys)` : ''}`
  }
  return typeof value
}

/**
 * How deep `value` nests arrays and objects, counted without recursion and stopping once past `limit`
 * (so the cost is bounded by the value's size, and a hostile depth cannot overflow the stack).
 */
export function nestingDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth + 1 > limit) return true
    for (const child of Array.isArray(v) ? v : Object.values(v))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1])
  }
  return false
}
