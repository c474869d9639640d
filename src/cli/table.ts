/** Plain aligned columns for terminal output (no colours: output is often piped or logged). */
export function renderTable(
  headers: string[],
  rows: (string | number | null | undefined)[][],
  {maxWidth, shrink = [], more = '--json'}: TableFit = {},
): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))))
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)))
  const cut = maxWidth === undefined ? false : fitWidths(widths, headers, shrink, maxWidth)
  const cell = (c: string, i: number) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c)
  const line = (r: string[]) =>
    r.map((c, i) => (i === r.length - 1 ? cell(c, i) : cell(c, i).padEnd(widths[i]))).join('  ')
  const out = [line(headers), ...cells.map(line)]
  if (cut) out.push(`(values cut to fit ${maxWidth} columns: ${more} shows them whole)`)
  return out.join('\n')
}

export interface TableFit {
  /** Terminal width to fit (undefined: no limit). */
  maxWidth?: number
  /** Columns that may be cut (with …); the widest of them gives way first (ties: the first listed). */
  shrink?: number[]
  /** How to see the values whole, named in the note under a cut table. */
  more?: string
}

/** Narrows the widest shrinkable column one step at a time (never below its header or 6 characters). */
function fitWidths(widths: number[], headers: string[], shrink: number[], maxWidth: number): boolean {
  let total = widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1)
  let cut = false
  while (total > maxWidth) {
    const candidates = shrink.filter((i) => widths[i] > Math.max(headers[i].length, 6))
    if (candidates.length === 0) break
    const widest = candidates.reduce((a, b) => (widths[b] > widths[a] ? b : a))
    widths[widest]--
    total--
    cut = true
  }
  return cut
}

/** The width tables must fit: the terminal's, or $COLUMNS; none when output is not a terminal. */
export function outputWidth(
  stream: {isTTY?: boolean; columns?: number} = process.stdout,
  env = process.env,
): number | undefined {
  const fromEnv = Number(env.COLUMNS)
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv
  return stream.isTTY ? (stream.columns ?? 80) : undefined
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m ago`
  return `${Math.floor(s / 86400)}d ago`
}
