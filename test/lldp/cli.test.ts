/** `vdp-agent lldp decode` end to end (needs a build: `npm test` builds first). */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'
import {decodeLldpFrame} from '../../src/lldp/index.js'
import {toJsonValue} from '../../src/lldp/format.js'
import {HAVE_THIRD_PARTY, OWN_CORPUS_DIR, readFrames, TCPDUMP_CAPTURES_DIR, THIRD_PARTY_DIR} from './corpus.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = `${ROOT}bin/run.js`
const built = existsSync(`${ROOT}dist/commands/lldp/decode.js`)

async function cli(...args: string[]): Promise<{stdout: string; stderr: string; code: number}> {
  try {
    const {stdout, stderr} = await run(process.execPath, [BIN, 'lldp', 'decode', ...args], {
      env: {...process.env, NODE_ENV: 'production'},
      maxBuffer: 1 << 26,
    })
    return {stdout, stderr, code: 0}
  } catch (err) {
    const e = err as {stdout: string; stderr: string; code: number}
    return {stdout: e.stdout, stderr: e.stderr, code: e.code}
  }
}

describe.skipIf(!built)('vdp-agent lldp decode (built CLI)', () => {
  const vdp = `${OWN_CORPUS_DIR}generated/lldpad-vdp22-assoc-deassoc.pcap`

  it('prints one line per LLDP frame and counts the ECP frames it skipped', async () => {
    const {stdout, code} = await cli(vdp)
    expect(code).toBe(0)
    const lines = stdout.trim().split('\n')
    expect(lines.at(-1)).toBe('12 frames: 4 LLDP (4 decoded, 0 with warnings, 0 rejected), 8 other frames skipped')
    expect(lines.slice(0, -1)).toHaveLength(4)
    expect(lines[0]).toMatch(
      /^#1 2026-11-20T21:41:09\.945925000Z LLDP 02:00:00:00:01:01 > 01:80:c2:00:00:00, chassis MAC address 02:00:00:00:01:01, .*evb station/,
    )
  })

  it.skipIf(!HAVE_THIRD_PARTY)('-v prints every TLV under its frame', async () => {
    const {stdout} = await cli('-v', `${TCPDUMP_CAPTURES_DIR}evb.pcap`)
    expect(stdout).toContain('  IEEE 802.1 EVB (127/00-80-c2/13), length 9')
    expect(stdout).toContain('    mode bridge, R 7, RTE 20 (10.49 s)')
    expect(stdout).toContain('    role 0, SComp 0, channel capacity 167')
    expect(stdout).toMatch(/\d+ frames: 1 LLDP \(1 decoded, 0 with warnings, 0 rejected\), \d+ other frames skipped\n$/)
  })

  it.skipIf(!HAVE_THIRD_PARTY)('--json writes JSON Lines equal to the library decode, then a summary', async () => {
    const pcap = `${THIRD_PARTY_DIR}lldpd/sg200.pcap`
    const {stdout} = await cli('--json', pcap)
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const [frame] = await readFrames(pcap)
    expect(lines[0].lldp).toEqual(toJsonValue(decodeLldpFrame(frame.data)))
    expect(lines[0].frame).toBe(1)
    expect(lines.at(-1)).toEqual({
      summary: {frames: 1, lldp: 1, decoded: 1, rejected: 0, skipped: 0, withWarnings: 0, rejectedByRule: {}},
    })
  })

  it.skipIf(!HAVE_THIRD_PARTY)('--strict names the rule a frame breaks', async () => {
    const {stdout} = await cli('--strict', `${THIRD_PARTY_DIR}wireshark-samplecaptures/lldp.minimal.pcap`)
    expect(stdout).toContain('LLDP REJECTED: second Time to Live TLV [duplicate-mandatory-tlv at offset')
    expect(stdout.trim().split('\n').at(-1)).toBe(
      '1 frames: 1 LLDP (0 decoded, 0 with warnings, 1 rejected: duplicate-mandatory-tlv 1), 0 other frames skipped',
    )
  })

  it('fails cleanly (exit 2) on a missing file or a file that is not a capture', async () => {
    expect((await cli(`${OWN_CORPUS_DIR}no-such.pcap`)).code).toBe(2)
    const notPcap = await cli(`${OWN_CORPUS_DIR}README.md`)
    expect(notPcap.code).toBe(2)
    // oclif wraps the message to the terminal width, so a long checkout path splits it: join the lines first
    expect(notPcap.stderr.replace(/\s*\n ›\s+/g, ' ')).toContain('not a pcap or pcapng file')
  })

  it('with --json a failure still writes the error object on stdout (docs/json/error.schema.json)', async () => {
    const missing = await cli('--json', `${OWN_CORPUS_DIR}no-such.pcap`)
    expect(missing.code).toBe(2)
    expect(JSON.parse(missing.stdout)).toEqual({
      error: {message: expect.stringContaining('no-such.pcap: no such file')},
    })
  })
})
