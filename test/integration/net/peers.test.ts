/**
 * The real peers of test/helpers/peers.ts (docs/net.md "lldpd in a namespace", "lldpad in a namespace"): two lldpd
 * instances see each other; two lldpad instances (each with its private /dev/shm) negotiate EVB22 as bridge and
 * station and associate a VSI over ECP/VDP22.
 */
import {existsSync, readdirSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {Lab, sweepStaleLabs} from '../../../src/lab/netns.js'
import {configureEvb, startLldpad, startLldpd, waitForEvbPeer, waitForVdpReady} from '../../helpers/peers.js'

const isRoot = process.getuid?.() === 0
const HOST_MAC = '02:00:00:00:01:01'
const TOR_MAC = '02:00:00:00:02:01'

describe.skipIf(!isRoot)('real LLDP/EVB/VDP peers in lab namespaces', () => {
  const lab = new Lab()
  let host: string
  let tor: string

  beforeAll(async () => {
    await sweepStaleLabs()
    host = await lab.addNamespace('host')
    tor = await lab.addNamespace('tor')
    await lab.addVethPair({ns: host, ifname: 'h0', mac: HOST_MAC}, {ns: tor, ifname: 't0', mac: TOR_MAC})
    await lab.waitForOperstate(host, 'h0', 'up')
    await lab.waitForOperstate(tor, 't0', 'up')
  })

  afterAll(() => lab.destroy())

  it('runs one lldpd per namespace; each sees the other as a neighbour in json0 form', async () => {
    const torLldpd = await startLldpd(lab, tor, {
      ifname: 't0',
      hostname: 'tor1.example',
      config: ['configure ports t0 lldp portdescription "Ethernet1/7"'],
    })
    const hostLldpd = await startLldpd(lab, host, {ifname: 'h0', hostname: 'host1.example'})
    try {
      let seen: Awaited<ReturnType<typeof hostLldpd.neighbors>> | undefined
      await lab.waitFor(
        'host lldpd to learn tor1.example',
        async () => {
          seen = await hostLldpd.neighbors()
          return JSON.stringify(seen).includes('tor1.example')
        },
        {timeoutMs: 10_000, intervalMs: 200},
      )
      const iface = seen!.lldp[0]!.interface![0]!
      expect(iface.name).toBe('h0')
      expect(iface.chassis![0]!.name![0]!.value).toBe('tor1.example')
      expect(iface.port![0]!.descr![0]!.value).toBe('Ethernet1/7')
    } finally {
      await hostLldpd.stop()
      await torLldpd.stop()
    }
    expect(lab.runningProcesses).toEqual([])
  })

  it('refuses config lines that could smuggle another command', async () => {
    await expect(
      startLldpd(lab, tor, {
        ifname: 't0',
        hostname: 'x',
        config: ['configure lldp tx-interval 1\nconfigure system hostname evil'],
      }),
    ).rejects.toMatchObject({
      code: 'LAB_BAD_CONFIG',
    })
    await expect(startLldpd(lab, tor, {ifname: 't0', hostname: 'bad host'})).rejects.toMatchObject({
      code: 'LAB_BAD_HOSTNAME',
    })
  })

  it('runs two lldpads side by side (private /dev/shm each), negotiates EVB and associates a VSI', async () => {
    const bridge = await startLldpad(lab, tor)
    const station = await startLldpad(lab, host)
    try {
      await configureEvb(bridge, 't0', 'bridge')
      await configureEvb(station, 'h0', 'station', {ecpRetries: 3, ecpRte: 14})
      // both directions: a bridge that has not seen the station's EVB TLV ignores ECP (recipes §4.2)
      expect(await waitForEvbPeer(lab, station, 'h0', 'bridge')).toContain('mode:bridge')
      expect(await waitForEvbPeer(lab, bridge, 't0', 'station')).toContain('mode:station')
      await waitForVdpReady(lab, station, 'h0') // the TLVs come before lldpad lets VDP run
      const uuid = 'a7b5c4d2-1111-4222-8333-123456789abc'
      const {stdout} = await station.vdptool([
        '-i',
        'h0',
        '-T',
        '-W',
        '-V',
        'assoc',
        '-c',
        'mode=assoc',
        '-c',
        'mgrid2=0',
        '-c',
        'typeid=205',
        '-c',
        'typeidver=0',
        '-c',
        `uuid=${uuid}`,
        '-c',
        'hints=none',
        '-c',
        'filter=0-52:54:00:aa:bb:01',
      ])
      expect(stdout).toContain('mode = assoc')
      expect(stdout).toContain(uuid)
      expect(stdout).not.toContain('FAILED')
    } finally {
      await station.stop()
      await bridge.stop()
    }
    // lldpad's state file lived on the private tmpfs, not on the machine's /dev/shm
    expect(existsSync('/dev/shm') ? readdirSync('/dev/shm') : []).not.toContain('lldpad.state')
  })
})
