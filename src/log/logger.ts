import pino, {type DestinationStream, type Logger} from 'pino'
import pretty from 'pino-pretty'

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
export type LogFormat = 'auto' | 'json' | 'pretty' | 'journal'
export type {Logger}

/** sd-daemon(3) priorities; journald strips the `<N>` prefix and files the line at that level. */
const JOURNAL_PRIORITY: Record<string, number> = {trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2}

/**
 * auto picks what the reader of stdout needs: a person at a terminal gets readable lines, systemd
 * (which sets JOURNAL_STREAM when stdout is the journal) gets JSON lines with priority prefixes, and
 * anything else (pipes, log shippers) plain JSON lines.
 */
function resolveLogFormat(format: LogFormat, stream: {isTTY?: boolean} = process.stdout): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format
  if (stream.isTTY) return 'pretty'
  if (process.env.JOURNAL_STREAM) return 'journal'
  return 'json'
}

export interface LoggerOptions {
  level: LogLevel
  format: LogFormat
  /** Where lines go; stdout by default. Tests pass a collecting stream. */
  destination?: DestinationStream
  name?: string
}

export function createLogger(opts: LoggerOptions): Logger {
  const format = resolveLogFormat(opts.format)
  const base = {name: opts.name ?? 'vdp-agent'}
  if (format === 'pretty') {
    const stream = pretty({
      colorize: process.stdout.isTTY === true,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: opts.destination ?? 1,
    })
    return pino({level: opts.level, base}, stream)
  }
  const out = opts.destination ?? pino.destination({dest: 1, sync: true})
  if (format === 'journal') {
    return pino(
      {level: opts.level, base, timestamp: false, formatters: {level: (label) => ({level: label})}},
      {write: (line: string) => out.write(`<${priorityOf(line)}>${line}`)},
    )
  }
  return pino({level: opts.level, base, formatters: {level: (label) => ({level: label})}}, out)
}

function priorityOf(line: string): number {
  const m = /"level":"(\w+)"/.exec(line)
  return JOURNAL_PRIORITY[m?.[1] ?? 'info'] ?? 6
}

/** A logger that drops everything, for library code used outside the daemon. */
export const silentLogger: Logger = pino({level: 'silent'})
