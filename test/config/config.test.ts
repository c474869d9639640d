import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {ConfigError, defaultConfig, formatProblem, loadConfig, parseConfigText} from '../../src/config/load.js'
import {renderAnnotatedConfig} from '../../src/config/render.js'
import {configSchema} from '../../src/config/schema.js'

function problemsOf(text: string) {
  try {
    parseConfigText(text, 'agent.ini')
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error('expected the config to be rejected')
}

describe('config: valid input', () => {
  it('the shipped agent.ini is exactly the annotated rendering of the schema', () => {
    const shipped = readFileSync(new URL('../../agent.ini', import.meta.url), 'utf8')
    expect(shipped).toBe(renderAnnotatedConfig())
  })

  it('the shipped agent.ini parses to the defaults, with no warnings', () => {
    const shipped = readFileSync(new URL('../../agent.ini', import.meta.url), 'utf8')
    const {config, warnings} = parseConfigText(shipped)
    expect(warnings).toEqual([])
    expect(config).toEqual(defaultConfig())
  })

  it('every key of the schema appears in agent.ini with a comment line before it', () => {
    const lines = renderAnnotatedConfig().split('\n')
    for (const [section, keys] of Object.entries(configSchema)) {
      for (const key of Object.keys(keys)) {
        const i = lines.findIndex((l) => l.startsWith(`${key} =`))
        expect(i, `${section}.${key}`).toBeGreaterThan(0)
        expect(lines[i - 1].startsWith('; ')).toBe(true)
      }
    }
  })

  it('typed values: ints, seconds, bools, lists, enums, inline comments', () => {
    const {config} = parseConfigText(`
[general]
host_id = node-17   ; inline comment
queue_capacity = 500
[uplink]
mode = static
static_interface = eth5
include = eth*, ens*  bond?
down_debounce = 2.5
[lldp]
evb_rr_request = yes
[rpc]
url = amqp://u:p@broker:5672/#frag
[log]
level = debug
`)
    expect(config.general.host_id).toBe('node-17')
    expect(config.general.queue_capacity).toBe(500)
    expect(config.uplink.mode).toBe('static')
    expect(config.uplink.static_interface).toBe('eth5')
    expect(config.uplink.include).toEqual(['eth*', 'ens*', 'bond?'])
    expect(config.uplink.down_debounce).toBe(2.5)
    expect(config.lldp.evb_rr_request).toBe(true)
    expect(config.rpc.url).toBe('amqp://u:p@broker:5672/#frag')
    expect(config.log.level).toBe('debug')
    expect(config.lldp.tx_interval).toBe(30)
  })

  it('an empty host_id and system_name resolve to the host name', () => {
    const {config} = parseConfigText('[general]\nhost_id =\n')
    expect(config.general.host_id.length).toBeGreaterThan(0)
    expect(config.lldp.system_name.length).toBeGreaterThan(0)
  })

  it('unknown keys and sections only warn, with a suggestion', () => {
    const {warnings, config} = parseConfigText('[uplink]\nmdoe = static\n[lldpp]\nx = 1\n[log]\nlevel = warn\n')
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain('agent.ini:3: unknown section [lldpp] ignored (did you mean lldp?)')
    expect(warnings[1]).toContain('agent.ini:2: unknown key [uplink] mdoe ignored (did you mean mode?)')
    expect(config.log.level).toBe('warn')
  })
})

describe('config: each kind of invalid input', () => {
  const cases: [string, string, RegExp][] = [
    ['enum', '[uplink]\nmode = sttic\n', /agent\.ini:2: \[uplink\] mode = "sttic": expected one of auto, static/],
    [
      'int not a number',
      '[lldp]\ntx_interval = fast\n',
      /agent\.ini:2: \[lldp\] tx_interval = "fast": expected an integer from 1 to 3600/,
    ],
    ['int out of range', '[lldp]\nevb_rte = 32\n', /\[lldp\] evb_rte = "32": expected an integer from 0 to 31/],
    [
      'seconds negative',
      '[uplink]\ndown_debounce = -1\n',
      /\[uplink\] down_debounce = "-1": expected a number of seconds from 0 to 3600/,
    ],
    ['bool', '[lldp]\nevb_group_id = maybe\n', /\[lldp\] evb_group_id = "maybe": expected true or false/],
    [
      'relative path',
      '[general]\nstate_dir = var/lib\n',
      /\[general\] state_dir = "var\/lib": expected an absolute path/,
    ],
    [
      'interface name',
      '[uplink]\nstatic_interface = eth0/1\n',
      /\[uplink\] static_interface = "eth0\/1": expected a Linux interface name/,
    ],
    ['interface name too long', '[dataplane]\nexternal_bridge = a-very-long-bridge-name\n', /longer than 15 bytes/],
    ['list item', '[uplink]\ninclude = eth*, $(reboot)\n', /\[uplink\] include = .*bad item "\$\(reboot\)"/],
    [
      'pattern',
      '[rpc]\nurl = http://broker/\n',
      /\[rpc\] url = "http:\/\/broker\/": expected an amqp:\/\/, amqps:\/\/ or oslo rabbit:\/\/ transport URL/,
    ],
    [
      'pattern, credentials hidden',
      '[rpc]\nurl = http://user:secret@broker/\n',
      /\[rpc\] url = "http:\/\/\*\*\*@broker\/"/,
    ],
    [
      'static mode without interface',
      '[uplink]\nmode = static\n',
      /\[uplink\] static_interface = "": expected an interface name when \[uplink\] mode = static/,
    ],
    [
      'duplicate key',
      '[log]\nlevel = info\nlevel = debug\n',
      /agent\.ini:3: \[log\] level = "debug": expected a single value \(already set on line 2\)/,
    ],
    ['syntax', '[log]\nthis line is nonsense\n', /agent\.ini:2: "this line is nonsense": expected `key = value`/],
    [
      'key before any section',
      'level = info\n',
      /agent\.ini:1: "level = info": expected a \[section\] header before the first key/,
    ],
    ['bad section header', '[log\n', /agent\.ini:1: "\[log": expected a section header/],
    [
      'auto detection without LLDP',
      '[lldp]\nmode = off\n',
      /agent\.ini:2: \[lldp\] mode = "off": expected rx or rxtx when \[uplink\] mode = auto/,
    ],
    [
      'retry_max below retry_initial',
      '[vdp]\nretry_initial = 10\nretry_max = 5\n',
      /\[vdp\] retry_max = "5": expected a value ≥ retry_initial \(10\)/,
    ],
  ]
  for (const [name, text, message] of cases) {
    it(name, () => {
      const problems = problemsOf(text)
      expect(problems.map(formatProblem).join('\n')).toMatch(message)
    })
  }

  it('reports every problem at once, each naming file, line, section, key, value and expectation', () => {
    const problems = problemsOf('[uplink]\nmode = x\n[lldp]\ntx_hold = 0\n')
    expect(problems).toEqual([
      {file: 'agent.ini', line: 2, section: 'uplink', key: 'mode', value: 'x', expected: 'one of auto, static'},
      {file: 'agent.ini', line: 4, section: 'lldp', key: 'tx_hold', value: '0', expected: 'an integer from 1 to 100'},
    ])
  })

  it('a missing explicit file is an error; no file at all means the embedded defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdp-cfg-'))
    expect(() => loadConfig(join(dir, 'nope.ini'))).toThrow(
      /nope\.ini: expected a readable config file \(it does not exist\)/,
    )
    const file = join(dir, 'agent.ini')
    writeFileSync(file, '[log]\nlevel = error\n')
    const loaded = loadConfig(file)
    expect(loaded.file).toBe(file)
    expect(loaded.config.log.level).toBe('error')
  })
})
