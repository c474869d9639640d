let cachedSecond = -1n
let cachedPrefix = ''

/** A capture timestamp (nanoseconds since the epoch) as UTC text with the capture's full precision. */
export function formatCaptureTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n
  // Consecutive frames mostly fall in the same second: format the date part once per second.
  if (seconds !== cachedSecond) {
    cachedSecond = seconds
    cachedPrefix = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  }
  return `${cachedPrefix}.${(ns - seconds * 1_000_000_000n).toString().padStart(9, '0')}Z`
}
