/**
 * The start-up fast path of the read-only commands (status, uplink show, neighbors, vsi list) against a
 * running daemon: bin/run.js tries it before loading oclif. It loads only the config loader, the control
 * client and the shared views (src/cli/views.ts), so a query costs about one bare Node.js start instead of
 * oclif + SQLite + pino (figures: bench/cli.ts, README).
 *
 * It answers only what it fully understands: one of those commands with the flags it knows, a valid config
 * and a daemon that answers. Anything else (--help, an unknown or bad flag, a config error, the daemon down,
 * an error from the daemon) returns false before printing a byte, and oclif then runs the command as usual,
 * with the same messages and exit codes as ever. Output is byte for byte what the oclif commands print
 * (test/cli/fast-path.test.ts and the CLI integration test compare both).
 */
import {loadConfig} from '../config/load.js'
import {callDaemon} from '../control/client.js'
import {outputWidth} from './table.js'
import {
  type VsiFilter,
  VSI_STATES,
  filterVsis,
  neighborDetails,
  neighborTable,
  statusLines,
  uplinkLines,
  vsiTable,
} from './views.js'
import type {NeighborView, StatusView, UplinkShowData} from '../control/views.js'
import type {VsiRecord, VsiState} from '../model/vsi.js'

interface Parsed {
  command: 'status' | 'uplink:show' | 'neighbors' | 'vsi:list'
  json: boolean
  config?: string
  verbose: boolean
  filter: VsiFilter
}

const COMMANDS: Record<string, Parsed['command']> = {
  status: 'status',
  'uplink show': 'uplink:show',
  neighbors: 'neighbors',
  'vsi list': 'vsi:list',
}

/** argv (after the script) -> what to run, or undefined when oclif must handle it. */
export function parseFastPath(argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed | undefined {
  const words = argv[0] === 'uplink' || argv[0] === 'vsi' ? 2 : 1
  const command = COMMANDS[argv.slice(0, words).join(' ')]
  if (!command) return undefined
  const parsed: Parsed = {command, json: false, verbose: false, filter: {}, config: env.VDP_AGENT_CONFIG || undefined}
  const rest = argv.slice(words)
  const seen = new Set<string>()
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] =
      rest[i].startsWith('--') && rest[i].includes('=')
        ? [rest[i].slice(0, rest[i].indexOf('=')), rest[i].slice(rest[i].indexOf('=') + 1)]
        : [rest[i], undefined]
    // Only --state may repeat; oclif decides what a repeated or empty flag means.
    const name = flag === '-c' ? '--config' : flag === '-v' ? '--verbose' : flag
    if (name !== '--state' && seen.has(name)) return undefined
    seen.add(name)
    const value = (): string | undefined => {
      const v = inline ?? rest[++i]
      return v === undefined || v === '' || v.startsWith('-') ? undefined : v
    }
    let v: string | undefined
    if (flag === '--json' && inline === undefined) parsed.json = true
    else if (flag === '--config' || flag === '-c') {
      if ((v = value()) === undefined) return undefined
      parsed.config = v
    } else if (command === 'neighbors' && (flag === '-v' || flag === '--verbose') && inline === undefined)
      parsed.verbose = true
    else if (command === 'vsi:list' && flag === '--state') {
      if ((v = value()) === undefined || !VSI_STATES.includes(v as VsiState)) return undefined
      ;(parsed.filter.state ??= []).push(v as VsiState)
    } else if (command === 'vsi:list' && (flag === '--network' || flag === '--port')) {
      if ((v = value()) === undefined) return undefined
      parsed.filter[flag === '--network' ? 'network' : 'port'] = v
    } else return undefined
  }
  return parsed
}

/** The daemon's answer to each fast-path command, typed by the control protocol (src/control/protocol.ts). */
export type FastPathAnswer =
  | {command: 'status'; data: StatusView}
  | {command: 'uplink:show'; data: UplinkShowData}
  | {command: 'neighbors'; data: NeighborView[]}
  | {command: 'vsi:list'; data: VsiRecord[]}

/** Ask the daemon what the command shows. */
async function askDaemon(socket: string, p: Parsed): Promise<FastPathAnswer> {
  switch (p.command) {
    case 'status':
      return {command: p.command, data: await callDaemon(socket, 'status')}
    case 'uplink:show':
      return {command: p.command, data: await callDaemon(socket, 'uplink.show')}
    case 'neighbors':
      return {command: p.command, data: await callDaemon(socket, 'neighbors', p.verbose ? {frames: true} : undefined)}
    case 'vsi:list':
      return {command: p.command, data: await callDaemon(socket, 'vsi.list')}
  }
}

/** The result and the lines a command prints, from the daemon's answer (same as the oclif commands). */
export async function renderFromDaemon(
  p: Parsed,
  answer: FastPathAnswer,
  now = Date.now(),
): Promise<{result: unknown; text: string}> {
  switch (answer.command) {
    case 'status': {
      const status = {...answer.data, source: 'daemon' as const}
      return {result: status, text: statusLines(status, now).join('\n')}
    }
    case 'uplink:show': {
      const d = answer.data
      return {result: {...d, answeredBy: 'daemon'}, text: uplinkLines(d, now).join('\n')}
    }
    case 'neighbors': {
      const list = answer.data
      if (!p.verbose)
        return {result: {source: 'daemon', neighbors: list}, text: neighborTable(list, now, outputWidth())}
      const {formatNeighborTlvs, withTlvs} = await import('./neighbor-tlvs.js')
      return {
        result: {source: 'daemon', neighbors: withTlvs(list)},
        text: neighborDetails(list, formatNeighborTlvs, now),
      }
    }
    case 'vsi:list': {
      const vsis = filterVsis(answer.data, p.filter)
      return {
        result: {source: 'daemon', vsis},
        text: vsiTable(vsis, now, outputWidth(), {more: '--port PREFIX or --json'}),
      }
    }
  }
}

/** Runs the command if the fast path can; false (having printed nothing) when oclif must. */
export async function runFastPath(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.VDP_AGENT_NO_FAST_PATH) return false
  const p = parseFastPath(argv, env)
  if (!p) return false
  let out: {result: unknown; text: string}
  let warnings: string[]
  try {
    const loaded = loadConfig(p.config)
    warnings = loaded.warnings
    out = await renderFromDaemon(p, await askDaemon(loaded.config.general.control_socket, p))
  } catch {
    return false
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`)
  process.stdout.write(p.json ? `${JSON.stringify(out.result, null, 2)}\n` : `${out.text}\n`)
  return true
}
