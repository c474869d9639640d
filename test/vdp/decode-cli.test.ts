/** `vdp-agent vdp decode` end to end (needs a build: `npm test` builds first). */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {describe, expect, it} from 'vitest'
import {ASSOC_DEASSOC_PCAP, KEEPALIVE_PCAP} from './helpers/corpus.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const built = existsSync(`${ROOT}dist/commands/vdp/decode.js`)

async function cli(...args: string[]): Promise<{stdout: string; stderr: string; code: number}> {
  try {
    const {stdout, stderr} = await run(process.execPath, [`${ROOT}bin/run.js`, 'vdp', 'decode', ...args], {
      env: {...process.env, NODE_ENV: 'production'},
      maxBuffer: 1 << 26,
    })
    return {stdout, stderr, code: 0}
  } catch (err) {
    const e = err as {stdout: string; stderr: string; code: number}
    return {stdout: e.stdout, stderr: e.stderr, code: e.code}
  }
}

describe.skipIf(!built || !existsSync(ASSOC_DEASSOC_PCAP))('vdp-agent vdp decode (built CLI)', () => {
  it('one line per ECP frame with the ACK it pairs, then the totals', async () => {
    const {stdout, code} = await cli(ASSOC_DEASSOC_PCAP)
    expect(code).toBe(0)
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(9)
    expect(lines[0]).toBe(
      '#3 2026-11-20T21:41:10.040849000Z ECP 02:00:00:00:01:01 > 01:80:c2:00:00:00, request VDP seq 1, assoc request UUID a7b5c4d2-1111-4222-8333-123456789abc type 4711/1 MAC/VID [52:54:00:aa:bb:01 vid 100], 2 TLVs',
    )
    expect(lines[1]).toBe(
      '#4 2026-11-20T21:41:10.040938000Z ECP 02:00:00:00:02:01 > 01:80:c2:00:00:00, ack VDP seq 1 (acks #3 after 0.089 ms)',
    )
    expect(lines[2]).toContain(
      'assoc ok UUID a7b5c4d2-1111-4222-8333-123456789abc type 4711/1 MAC/VID [52:54:00:aa:bb:01 vid 100], answers #3 after 2.217 ms',
    )
    expect(lines.at(-1)).toBe(
      '12 frames: 8 ECP (4 requests, 0 of them retransmissions, 4 ACKs, 0 requests never acknowledged); 4 VDPDUs (0 malformed), ' +
        'VSI TLVs: assoc request 1, assoc response 1, deassoc request 1, deassoc response 1, 2 responses matched; 4 other frames skipped',
    )
  })

  it('-v prints the ECP header and every VSI field', async () => {
    const {stdout} = await cli('-v', ASSOC_DEASSOC_PCAP)
    for (const line of [
      '  ECP header: version 1, operation request (0), subtype VDP (1), sequence 1',
      '  VSI Manager ID (5), length 16: 0',
      '  Associate (3), length 33: response: success',
      '    status 0x40: hard 0, keep 0, error 0 (success)',
      '    VSI type ID 4711 (0x001267), version 1',
      '    VSIID format UUID (5): a7b5c4d2-1111-4222-8333-123456789abc',
      '    filter format MAC/VID (2), 1 entry',
      '      entry 1: MAC 52:54:00:aa:bb:01, VID 100',
      '  De-Associate (4), length 33: request',
    ])
      expect(stdout).toContain(`\n${line}\n`)
  })

  it('--json: JSON Lines with the exchange links, then a summary with the retransmissions of the bridge-loss capture', async () => {
    const {stdout} = await cli('--json', KEEPALIVE_PCAP)
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const summary = lines.at(-1).summary
    expect(summary).toMatchObject({
      frames: 74,
      ecp: 52,
      requests: 34,
      retransmissions: 12,
      acks: 18,
      unacknowledged: 4,
      malformedVdpdus: 0,
    })
    const retransmitted = lines.filter((l) => l.exchange?.retransmissionOf !== undefined)
    expect(retransmitted).toHaveLength(12)
    const first = lines.find((l) => l.frame === 36)
    expect(first.vdp.tlvs[0]).toEqual({
      kind: 'manager-id',
      managerId: '6f70656e737461636b31000000000000',
      managerIdText: 'openstack1',
    })
    expect(first.vdp.tlvs[1]).toMatchObject({
      mode: 'assoc',
      status: {kind: 'request', migratingTo: true, octet: 0x10},
      typeId: 4711,
      filter: {format: 2, entries: [{vid: 100, mac: '52:54:00:aa:bb:04'}]},
    })
  })

  it('a missing file or a file that is not a capture exits 2 with the reason', async () => {
    expect(await cli('/nonexistent.pcap')).toMatchObject({code: 2, stderr: expect.stringContaining('no such file')})
    expect(await cli(fileURLToPath(import.meta.url))).toMatchObject({code: 2})
  })
})
