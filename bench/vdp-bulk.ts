/**
 * bench/vdp-bulk: how fast VM ports get associated, ours against lldpad + vdptool, in the same run.
 *
 *   node dist/bench/vdp-bulk.js [--sizes 1000,4000] [--lldpad-sizes 1000,4000]
 *
 * Ours: the daemon in a "host" namespace, the ToR simulator in a "tor" namespace, over veth. One bulk VM
 * list (the controller's, or `vdp-agent vm bulk`) per size: from sending it to the daemon's "bulk VM event
 * done" log line, every VSI confirmed by the switch. Also one control request per VSI (like single VM
 * events), and the daemon's RSS holding the largest set.
 * lldpad: Debian's lldpad as station and as bridge on a second veth pair, driven as the original agent did:
 * one `vdptool -T -W ... assoc` per VSI, waiting for the bridge's answer, one after the other.
 * Same VSIs on both sides (UUID VSIID, one MAC per filter, no VM-name TLVs). Ours asks the switch for the
 * VLAN (VID 0, group = segment: filter format 4); Debian's lldpad bridge cannot assign, so the vdptool side
 * asks for known VIDs (format 2). A VSI TLV is then 39 (format 4) or 35 (format 2) octets.
 */
import {readFile} from 'node:fs/promises'

import {callDaemon} from '../src/control/client.js'
import {AgentRunner, makeAgentHome} from '../src/lab/agent-runner.js'
import {Lab} from '../src/lab/netns.js'
import {configureEvb, startLldpad, waitForVdpReady} from '../test/helpers/peers.js'
import {startTorSimulator} from '../src/lab/tor-process.js'

const args = process.argv.slice(2)
const list = (name: string, dflt: number[]) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1].split(',').map(Number) : dflt
}
const SIZES = list('sizes', [1000, 4000])
const LLDPAD_SIZES = list('lldpad-sizes', [1000, 4000])
const NET = '4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a'

const uuid = (round: number, i: number) =>
  `7f1c0a52-0e3b-4a8e-${(0x9000 + round).toString(16)}-${i.toString(16).padStart(12, '0')}`
const mac = (round: number, i: number) =>
  `52:54:${round.toString(16).padStart(2, '0')}:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`
/** The same VSIs for both agents: UUID VSIID, one MAC filter entry, no organisational (VM name) TLVs. */
const ports = (round: number, n: number) =>
  Array.from({length: n}, (_, i) => ({
    portUuid: uuid(round, i + 1),
    mac: mac(round, i + 1),
    netUuid: NET,
    segmentationId: 20000 + (i % 500),
  }))

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024
}

interface Row {
  who: string
  vsis: number
  seconds: number
  perSecond: number
  failed: number
}

async function ours(lab: Lab, rows: Row[]): Promise<{rssMb: number}> {
  const host = await lab.addNamespace('host')
  const tor = await lab.addNamespace('tor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth1', mac: '02:00:00:00:01:01'},
    {ns: tor, ifname: 'sw1', mac: '02:00:00:00:02:01'},
  )
  await lab.waitForOperstate(host, 'eth1', 'up')
  const sim = await startTorSimulator(lab, tor, {
    ifname: 'sw1',
    args: ['--vlan-from-segment', '--bgid', '--min-tx-gap-ms', '0', '--log-level', 'warn'],
  })
  const home = makeAgentHome('[uplink]\nmode = auto\ncandidate_kinds = veth\n', {logLevel: 'info'})
  const agent = await AgentRunner.start(lab, host, home)
  await agent.waitForLine((l) => l.msg === 'uplink changed' && l.state === 'up', {timeoutMs: 30_000})
  let rss = 0
  let round = 0
  for (const n of SIZES) {
    round++
    const from = agent.lines.length
    const t0 = Date.now()
    await callDaemon(home.socket, 'vm.bulk', {up: ports(round, n)}, 120_000)
    const done = await agent.waitForLine((l) => l.msg === 'bulk VM event done', {from, timeoutMs: 300_000})
    const seconds = (done.time! - t0) / 1000
    const counts = (done.vsis ?? {}) as Record<string, number>
    rows.push({
      who: 'vdp-agent, one bulk list',
      vsis: n,
      seconds,
      perSecond: n / seconds,
      failed: n - (counts.associated ?? 0),
    })
    rss = Math.max(rss, await rssMb(agent.pid))
    const switchHolds = ((await sim.call('vsis')) as unknown[]).length
    if (switchHolds !== n) throw new Error(`the switch holds ${switchHolds} associations, expected ${n}`)
    const cleared = agent.lines.length
    await callDaemon(home.socket, 'vm.bulk', {down: ports(round, n).map((p) => p.portUuid)}, 120_000)
    await agent.waitForLine((l) => l.msg === 'bulk VM event done', {from: cleared, timeoutMs: 300_000})
  }
  // One control request per VSI, as single VM events arrive.
  round++
  const n = SIZES[0]
  const t0 = Date.now()
  for (const p of ports(round, n)) await callDaemon(home.socket, 'vm.up', p)
  for (;;) {
    const status = (await callDaemon(home.socket, 'status')) as {vsis: {byState: Record<string, number>}}
    if ((status.vsis.byState.associated ?? 0) + (status.vsis.byState.failed ?? 0) >= n) {
      const seconds = (Date.now() - t0) / 1000
      rows.push({
        who: 'vdp-agent, one request per VSI',
        vsis: n,
        seconds,
        perSecond: n / seconds,
        failed: status.vsis.byState.failed ?? 0,
      })
      break
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  await agent.stop()
  await sim.stop()
  return {rssMb: rss}
}

/** lldpad's refusals, a few samples for the report. */
const failures: string[] = []

function vdptool(
  station: Awaited<ReturnType<typeof startLldpad>>,
  mode: 'assoc' | 'deassoc',
  p: {portUuid: string; mac: string; segmentationId: number},
) {
  const vid = 100 + (p.segmentationId % 50) // Debian's lldpad bridge echoes the VID: ask for a known one
  const wait = mode === 'assoc' ? ['-W'] : []
  return station.vdptool([
    '-i',
    'eth2',
    '-T',
    ...wait,
    '-V',
    mode,
    '-c',
    `mode=${mode}`,
    '-c',
    'mgrid2=0',
    '-c',
    'typeid=0',
    '-c',
    'typeidver=0',
    '-c',
    `uuid=${p.portUuid}`,
    '-c',
    'hints=none',
    '-c',
    `filter=${vid}-${p.mac}`,
  ])
}

async function lldpad(lab: Lab, rows: Row[]): Promise<void> {
  const host = await lab.addNamespace('lhost')
  const tor = await lab.addNamespace('ltor')
  await lab.addVethPair(
    {ns: host, ifname: 'eth2', mac: '02:00:00:00:03:01'},
    {ns: tor, ifname: 'sw2', mac: '02:00:00:00:04:01'},
  )
  await lab.waitForOperstate(host, 'eth2', 'up')
  const bridge = await startLldpad(lab, tor)
  const station = await startLldpad(lab, host)
  await configureEvb(bridge, 'sw2', 'bridge')
  await configureEvb(station, 'eth2', 'station')
  await waitForVdpReady(lab, station, 'eth2', 30_000)
  let round = 100
  for (const n of LLDPAD_SIZES) {
    round++
    let failed = 0
    const t0 = Date.now()
    for (const p of ports(round, n)) {
      // vdptool exits 1 when lldpad refuses the command itself; either way the VSI is not associated
      const r = await vdptool(station, 'assoc', p).catch((err: {stdout?: string}) => ({
        stdout: err.stdout ?? String(err),
      }))
      if (!/mode = assoc/.test(r.stdout)) {
        failed++
        if (failures.length < 3) failures.push(r.stdout.trim().split('\n').slice(-2).join(' / '))
      }
    }
    const seconds = (Date.now() - t0) / 1000
    rows.push({who: 'lldpad + vdptool, one call per VSI', vsis: n, seconds, perSecond: (n - failed) / seconds, failed})
    for (const p of ports(round, n)) await vdptool(station, 'deassoc', p).catch(() => undefined)
  }
  await station.stop()
  await bridge.stop()
}

async function main(): Promise<void> {
  const lab = new Lab()
  const rows: Row[] = []
  try {
    const {rssMb: rss} = await ours(lab, rows)
    await lldpad(lab, rows)
    console.log('VSI association rate over veth (the switch confirmed every VSI counted)')
    for (const r of rows)
      console.log(
        `  ${r.who.padEnd(36)} ${String(r.vsis).padStart(5)} VSIs  ${r.seconds.toFixed(3).padStart(8)} s  ${Math.round(r.perSecond).toString().padStart(7)} VSIs/s  failed ${r.failed}`,
      )
    const ratios = SIZES.filter((n) => LLDPAD_SIZES.includes(n)).map((n) => {
      const a = rows.find((r) => r.who === 'vdp-agent, one bulk list' && r.vsis === n)!
      const b = rows.find((r) => r.who.startsWith('lldpad') && r.vsis === n)!
      return {vsis: n, ratio: Number((a.perSecond / b.perSecond).toFixed(1))}
    })
    for (const r of ratios) console.log(`  ratio at ${r.vsis} VSIs: vdp-agent ${r.ratio}x lldpad+vdptool`)
    if (failures.length) console.log(`  lldpad refusals (samples): ${failures.join(' | ')}`)
    console.log(`  daemon RSS holding ${Math.max(...SIZES)} VSIs: ${rss.toFixed(1)} MB`)
    console.log(
      JSON.stringify({
        rows,
        ratios,
        lldpadRefusals: failures,
        daemonRssMb: Number(rss.toFixed(1)),
        targets: {ratio: '>= 50', seconds4000: '< 2', rssMb: '< 150'},
      }),
    )
  } finally {
    await lab.destroy()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
