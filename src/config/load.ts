import {existsSync} from 'node:fs'
import {hostname} from 'node:os'
import {isAbsolute} from 'node:path'

import {VdpAgentError} from '../errors.js'
import {validateIfName} from '../net/ifname.js'
import {parseIni} from './ini.js'
import {FileReadError, readRegularFile} from './regular-file.js'
import {type AgentConfig, type KeySpec, type SectionName, configSchema, sectionNames, sectionSpecs} from './schema.js'

const DEFAULT_CONFIG_PATH = '/etc/vdp-agent/agent.ini'
/** sysexits.h EX_CONFIG: what systemd and operators expect from a daemon refusing its configuration. */
export const EXIT_CONFIG = 78
/** A config file is a few KB; a bigger "config" is something else (and is not read without end). */
const MAX_CONFIG_BYTES = 1 << 20

export interface ConfigProblem {
  file: string
  line?: number
  section?: string
  key?: string
  value?: string
  expected: string
}

export class ConfigError extends VdpAgentError {
  readonly problems: ConfigProblem[]
  constructor(problems: ConfigProblem[]) {
    super('CONFIG_INVALID', problems.map(formatProblem).join('\n'), {problems})
    this.problems = problems
  }
}

export interface LoadedConfig {
  config: AgentConfig
  /** The file read, or undefined when the embedded defaults were used. */
  file?: string
  warnings: string[]
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}`
  // a broker URL's user:password never reaches an error message
  const value =
    p.value === undefined
      ? ''
      : JSON.stringify(typeof p.value === 'string' ? p.value.replace(/(:\/\/)[^@/\s]*@/, '$1***@') : p.value)
  let subject: string
  if (p.key !== undefined) subject = `[${p.section}] ${p.key}${value ? ` = ${value}` : ''}`
  else if (p.section !== undefined) subject = `[${p.section}]`
  else subject = value // a line that is not a key at all
  return subject === '' ? `${where}: expected ${p.expected}` : `${where}: ${subject}: expected ${p.expected}`
}

export function defaultConfig(): AgentConfig {
  const out: Record<string, Record<string, unknown>> = {}
  for (const section of sectionNames) {
    out[section] = {}
    for (const [key, spec] of Object.entries(sectionSpecs(section))) {
      out[section][key] = Array.isArray(spec.default) ? [...spec.default] : spec.default
    }
  }
  return resolveDerived(out as AgentConfig)
}

/**
 * Load the config. An explicitly named file must exist; when none is named, the default path is used if
 * present and the embedded defaults otherwise (so a fresh host runs without writing any file).
 */
export function loadConfig(file?: string): LoadedConfig {
  const explicit = file !== undefined
  const path = file ?? DEFAULT_CONFIG_PATH
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError([{file: path, expected: 'a readable config file (it does not exist)'}])
    return {config: defaultConfig(), warnings: []}
  }
  let text: string
  try {
    text = readRegularFile(path, MAX_CONFIG_BYTES, 'config file').toString('utf8')
  } catch (err) {
    if (err instanceof FileReadError)
      throw new ConfigError([
        {
          file: path,
          expected: `a regular config file of at most ${MAX_CONFIG_BYTES} bytes (it ${String(err.details.problem)})`,
        },
      ])
    throw new ConfigError([{file: path, expected: `a readable config file (${(err as Error).message})`}])
  }
  return {...parseConfigText(text, path), file: path}
}

/** Validate INI text; throws ConfigError listing every problem, returns warnings for unknown keys. */
export function parseConfigText(text: string, file = 'agent.ini'): {config: AgentConfig; warnings: string[]} {
  const doc = parseIni(text)
  const problems: ConfigProblem[] = doc.problems.map((p) => ({file, line: p.line, value: p.text, expected: p.expected}))
  const warnings: string[] = []
  const config = defaultConfig() as unknown as Record<string, Record<string, unknown>>
  const seen = new Map<string, number>()

  for (const [section, line] of doc.sections) {
    if (!(section in configSchema)) {
      warnings.push(`${file}:${line}: unknown section [${section}] ignored${suggest(section, sectionNames)}`)
    }
  }
  for (const entry of doc.entries) {
    if (!(entry.section in configSchema)) continue
    const specs = sectionSpecs(entry.section as SectionName)
    const spec = specs[entry.key]
    if (!spec) {
      warnings.push(
        `${file}:${entry.line}: unknown key [${entry.section}] ${entry.key} ignored${suggest(entry.key, Object.keys(specs))}`,
      )
      continue
    }
    const id = `${entry.section}.${entry.key}`
    const earlier = seen.get(id)
    if (earlier !== undefined) {
      problems.push({...where(file, entry), expected: `a single value (already set on line ${earlier})`})
      continue
    }
    seen.set(id, entry.line)
    const parsed = parseValue(spec, entry.value)
    if (parsed.ok) config[entry.section][entry.key] = parsed.value
    else problems.push({...where(file, entry), expected: parsed.expected})
  }

  const typed = config as unknown as AgentConfig
  if (typed.uplink.mode === 'static' && typed.uplink.static_interface === '') {
    const line = seen.get('uplink.mode')
    problems.push({
      file,
      line,
      section: 'uplink',
      key: 'static_interface',
      value: '',
      expected: 'an interface name when [uplink] mode = static',
    })
  }
  if (typed.uplink.mode === 'auto' && typed.lldp.mode === 'off') {
    problems.push({
      file,
      line: seen.get('lldp.mode'),
      section: 'lldp',
      key: 'mode',
      value: 'off',
      expected: 'rx or rxtx when [uplink] mode = auto (auto detection listens to LLDP)',
    })
  }
  if (typed.vdp.retry_max < typed.vdp.retry_initial) {
    const line = seen.get('vdp.retry_max') ?? seen.get('vdp.retry_initial')
    problems.push({
      file,
      line,
      section: 'vdp',
      key: 'retry_max',
      value: String(typed.vdp.retry_max),
      expected: `a value ≥ retry_initial (${typed.vdp.retry_initial})`,
    })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return {config: resolveDerived(typed), warnings}
}

function where(file: string, e: {line: number; section: string; key: string; value: string}) {
  return {file, line: e.line, section: e.section, key: e.key, value: e.value}
}

/** Fill values whose default depends on the host. */
function resolveDerived(config: AgentConfig): AgentConfig {
  const host = hostname()
  return {
    ...config,
    general: {...config.general, host_id: config.general.host_id || host.split('.')[0] || 'localhost'},
    lldp: {...config.lldp, system_name: config.lldp.system_name || host},
  }
}

type Parsed = {ok: true; value: unknown} | {ok: false; expected: string}

function parseValue(spec: KeySpec, raw: string): Parsed {
  switch (spec.kind) {
    case 'string': {
      if (spec.maxLength !== undefined && raw.length > spec.maxLength)
        return {ok: false, expected: `at most ${spec.maxLength} characters`}
      if (raw !== '' && spec.pattern && !spec.pattern.test(raw))
        return {ok: false, expected: spec.expected ?? `a value matching ${spec.pattern}`}
      return {ok: true, value: raw}
    }
    case 'path':
      return isAbsolute(raw) && !raw.includes('\0') ? {ok: true, value: raw} : {ok: false, expected: 'an absolute path'}
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return {ok: false, expected: `an integer from ${spec.min} to ${spec.max}`}
      const n = Number(raw)
      return n >= spec.min && n <= spec.max
        ? {ok: true, value: n}
        : {ok: false, expected: `an integer from ${spec.min} to ${spec.max}`}
    }
    case 'seconds': {
      const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN
      return n >= spec.min && n <= spec.max
        ? {ok: true, value: n}
        : {ok: false, expected: `a number of seconds from ${spec.min} to ${spec.max}`}
    }
    case 'bool': {
      const v = raw.toLowerCase()
      if (['true', 'yes', 'on', '1'].includes(v)) return {ok: true, value: true}
      if (['false', 'no', 'off', '0'].includes(v)) return {ok: true, value: false}
      return {ok: false, expected: 'true or false'}
    }
    case 'enum':
      return spec.values.includes(raw)
        ? {ok: true, value: raw}
        : {ok: false, expected: `one of ${spec.values.join(', ')}`}
    case 'list': {
      const items = raw.split(/[\s,]+/).filter((s) => s !== '')
      const bad = spec.itemPattern ? items.find((i) => !spec.itemPattern!.test(i)) : undefined
      return bad === undefined
        ? {ok: true, value: items}
        : {ok: false, expected: `${spec.itemExpected ?? 'valid items'} (bad item ${JSON.stringify(bad)})`}
    }
    case 'ifname': {
      if (raw === '') return {ok: true, value: ''}
      try {
        return {ok: true, value: validateIfName(raw)}
      } catch (err) {
        return {ok: false, expected: `a Linux interface name (${(err as Error).message})`}
      }
    }
  }
}

function suggest(word: string, candidates: string[]): string {
  let best: string | undefined
  let bestDistance = 3
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best ? ` (did you mean ${best}?)` : ''
}

function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}
