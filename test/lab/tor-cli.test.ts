/** `vdp-agent lab tor` refuses bad flags before it touches any interface (needs a build: `npm test` builds first). */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const built = existsSync(`${ROOT}dist/commands/lab/tor.js`)

function cli(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${ROOT}bin/run.js`, 'lab', ...args],
      {env: {...process.env, NODE_ENV: 'production'}, timeout: 30_000},
      (err, stdout, stderr) => {
        resolve({code: err ? Number((err as {code?: unknown}).code ?? 1) : 0, stdout, stderr})
      },
    )
  })
}

describe.skipIf(!built)('vdp-agent lab tor: flag validation (built CLI)', () => {
  it.each([
    [['-i', 'a/b'], 'invalid interface name "a/b": contains \'/\''],
    [['-i', '-x'], 'interface'], // oclif takes -x for a flag; either way no socket is opened
    [['-i', 'nosuch0'], 'no interface nosuch0 in this network namespace'],
    [['-i', 'lo', '--vlan-pool', '300-200'], 'a VLAN pool is FROM-TO'],
    [['-i', 'lo', '--vlan-pool', '100-199', '--vlan-from-segment'], '--vlan-from-segment'],
    [['-i', 'lo', '--reject', '2,soft'], '--reject is CODE[,hard][,keep]'],
    [['-i', 'lo', '--reject-group', '5'], '--reject'],
    [['-i', 'lo', '--drop-acks', '1.5'], '--drop-acks must be a share from 0 to 1'],
    [['-i', 'lo', '--delay-ms', '-1'], '--delay-ms must be an integer'],
    [['-i', 'lo', '--rte', '32'], 'less than or equal to 31'],
    [['-i', 'lo', '--mac', '01:00:5e:00:00:01'], '--mac must be a unicast address'],
    [['-i', 'lo', '--system-name', 'tor\nsim'], '--system-name must be 1–64 printable ASCII characters'],
    [['-i', 'lo', '--reject', '2', '--reject-vsiid', 'nope'], '"nope" is not a VSIID'],
  ])('tor %j exits 2', async (args, message) => {
    const {code, stderr} = await cli('tor', ...args)
    expect(code).toBe(2)
    expect(stderr.replace(/\s*›\s*/g, ' ')).toContain(message)
  })

  it('--help documents every flag group', async () => {
    const {code, stdout} = await cli('tor', '--help')
    expect(code).toBe(0)
    for (const text of [
      '--interface',
      '--vlan-pool',
      '--vlan-from-segment',
      'EVB FLAGS',
      'FAULTS FLAGS',
      'LLDP FLAGS',
      '--reject=<value>',
      '--control',
      '--json-events',
      '--seed',
    ]) {
      expect(stdout).toContain(text)
    }
  })

  it('tor-ctl refuses a method it does not know and set-faults without faults', async () => {
    expect((await cli('tor-ctl', 'reboot', '--control', '/tmp/x.sock')).code).toBe(2)
    const empty = await cli('tor-ctl', 'set-faults', '--control', '/tmp/x.sock')
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('set-faults needs FAULTS flags, or --clear alone')
    expect((await cli('tor-ctl', 'set-faults', '--control', '/tmp/x.sock', '--clear', '--drop-acks', '0.1')).code).toBe(
      2,
    )
  })
})
