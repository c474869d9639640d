/** A capture timestamp (nanoseconds since the epoch) as UTC text with the capture's full precision. */
export function formatCaptureTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  return `${iso}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`
}
