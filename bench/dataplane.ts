/**
 * bench/dataplane: programming 4,000 VM ports on 500 networks into Open vSwitch, and auditing the result,
 * against the original agent's method on the same OVS in the same run.
 *
 *   node dist/bench/dataplane.js [--ports 4000] [--networks 500] [--original-ports 400]
 *
 * A private OVS (userspace datapath) in a lab namespace: br-int with the VM ports (patch-type interfaces
 * with Neutron's iface-id and a tag per network, so no kernel devices are needed), br-ethd with the uplink
 * (a veth), the patch pair. Ours: OvsDataplane (an OVSDB monitor for tags, one ovs-ofctl bundle per bridge
 * and batch). The original (dfa-agent §4.4-4.5): per port `ovs-vsctl find Interface external_ids:iface-id=…`
 * and `ovs-vsctl get Port … tag`, then per new network one `ovs-ofctl add-flows` process per flow; its
 * audit is one dump-flows per bridge and a substring search. The original runs on `--original-ports`
 * ports (default 400, same ports per network) and is extrapolated linearly to the full count (its cost is
 * one process per item); pass `--original-ports 4000` to measure it whole.
 */
import {execFile} from 'node:child_process'

import {OvsDataplane} from '../src/dataplane/ovs-dataplane.js'
import {OvsTools} from '../src/dataplane/ovs-tools.js'
import {OvsdbMonitor} from '../src/dataplane/ovsdb-monitor.js'
import {Lab} from '../src/lab/netns.js'
import {startOvs} from '../src/lab/ovs.js'
import {createLogger} from '../src/log/logger.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const PORTS = opt('ports', 4000)
const NETWORKS = opt('networks', 500)
const ORIGINAL_PORTS = Math.min(PORTS, opt('original-ports', 400))

const uuid = (kind: number, i: number) =>
  `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`
const portUuid = (i: number) => uuid(1, i)
const netUuid = (n: number) => uuid(2, n)
const netOf = (i: number) => i % NETWORKS
const lvidOf = (n: number) => 1 + n
const vdpVlanOf = (n: number) => 1000 + n

function exec(file: string, argv: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, argv, {maxBuffer: 256 * 1024 * 1024}, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${file} ${argv.slice(0, 6).join(' ')}…: ${(stderr || err.message).slice(0, 500)}`))
        : resolve(stdout),
    )
    if (stdin !== undefined) child.stdin!.end(stdin)
  })
}

async function main(): Promise<void> {
  const lab = new Lab()
  try {
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    await lab.addVethPair(
      {ns: host, ifname: 'eth0', mac: '02:00:00:00:01:01'},
      {ns: tor, ifname: 'sw0', mac: '02:00:00:00:02:01'},
    )
    const ovs = await startOvs(lab, host, 'benchovs')
    await ovs.addBridge('br-int')
    await ovs.addBridge('br-ethd')
    await ovs.addPatchPair('br-int', 'int-br-ethd', 'br-ethd', 'phy-br-ethd')
    const db = `--db=unix:${ovs.dbSocket}`
    for (let start = 0; start < PORTS; start += 250) {
      const batch: string[] = []
      for (let i = start; i < Math.min(PORTS, start + 250); i++) {
        const name = `vm${i.toString(36)}`
        batch.push(
          '--',
          'add-port',
          'br-int',
          name,
          `tag=${lvidOf(netOf(i))}`,
          '--',
          'set',
          'interface',
          name,
          'type=patch',
          `options:peer=none${i.toString(36)}`,
          `external_ids:iface-id=${portUuid(i)}`,
        )
      }
      await exec('ovs-vsctl', [db, '--timeout=600', ...batch])
    }
    const log = createLogger({level: 'warn', format: 'json'})

    // ---- ours
    const monitor = new OvsdbMonitor(ovs.dbSocket)
    const tools = new OvsTools({rundir: ovs.rundir, timeoutMs: 60_000})
    const dp = new OvsDataplane({
      integrationBridge: 'br-int',
      externalBridge: 'br-ethd',
      rundir: ovs.rundir,
      tagTimeoutMs: 30_000,
      auditIntervalMs: 0,
      monitor,
      tools,
      log,
    })
    const t0 = performance.now()
    await dp.start([])
    const monitorMs = performance.now() - t0
    await dp.uplinkUp('eth0')
    const commandsBefore = tools.commands
    const t1 = performance.now()
    const results = await Promise.all(
      Array.from({length: PORTS}, (_, i) =>
        dp.portUp({portUuid: portUuid(i), netUuid: netUuid(netOf(i))}, vdpVlanOf(netOf(i))),
      ),
    )
    const programMs = performance.now() - t1
    const programCommands = tools.commands - commandsBefore
    const failed = results.filter((r) => !r.ok)
    if (failed.length > 0) throw new Error(`${failed.length} ports failed: ${JSON.stringify(failed[0])}`)
    const t2 = performance.now()
    const audit = await dp.audit('bench')
    const auditMs = performance.now() - t2
    await ovs.ofctl(['del-flows', ovs.mgmt('br-int'), 'cookie=0x7664706100000000/0xffffffff00000000'])
    const t3 = performance.now()
    const heal = await dp.audit('bench: br-int flows wiped')
    const healMs = performance.now() - t3
    const installed = (await ovs.ofctl(['--no-stats', 'dump-flows', ovs.mgmt('br-ethd')]))
      .split('\n')
      .filter((l) => l.includes('cookie=0x76647061')).length
    const rss = process.memoryUsage().rss / 1024 / 1024
    await dp.uplinkDown('eth0')
    await dp.stop()

    // ---- the original's method, on the same OVS
    const ofport = async (iface: string) =>
      Number((await exec('ovs-vsctl', [db, 'get', 'Interface', iface, 'ofport'])).trim())
    const phyPeer = await ofport('phy-br-ethd')
    const intPeer = await ofport('int-br-ethd')
    const programmed = new Set<number>()
    const t4 = performance.now()
    let originalProcesses = 0
    for (let i = 0; i < ORIGINAL_PORTS; i++) {
      const found = await exec('ovs-vsctl', [
        db,
        '--timeout=10',
        '--columns=name',
        'find',
        'Interface',
        `external_ids:iface-id=${portUuid(i)}`,
      ])
      const name = found.split(/\s+/)[2].replace(/"/g, '')
      const lvid = Number((await exec('ovs-vsctl', [db, '--timeout=10', 'get', 'Port', name, 'tag'])).trim())
      originalProcesses += 2
      const n = netOf(i)
      if (programmed.has(n)) continue
      programmed.add(n)
      const vlan = vdpVlanOf(n)
      await exec(
        'ovs-ofctl',
        ['add-flows', ovs.mgmt('br-ethd'), '-'],
        `hard_timeout=0,idle_timeout=0,priority=4,in_port=${phyPeer},dl_vlan=${lvid},actions=mod_vlan_vid:${vlan},normal\n`,
      )
      await exec(
        'ovs-ofctl',
        ['add-flows', ovs.mgmt('br-int'), '-'],
        `hard_timeout=0,idle_timeout=0,priority=3,in_port=${intPeer},dl_vlan=${vlan},actions=mod_vlan_vid:${lvid},normal\n`,
      )
      originalProcesses += 2
    }
    const originalMs = performance.now() - t4
    const t5 = performance.now()
    const dumps = await Promise.all([
      exec('ovs-ofctl', ['dump-flows', ovs.mgmt('br-int'), `in_port=${intPeer}`]),
      exec('ovs-ofctl', ['dump-flows', ovs.mgmt('br-ethd'), `in_port=${phyPeer}`]),
    ])
    let originalMissing = 0
    for (const n of programmed)
      if (
        !dumps[0].includes(`dl_vlan=${vdpVlanOf(n)} actions=mod_vlan_vid:${lvidOf(n)}`) ||
        !dumps[1].includes(`dl_vlan=${lvidOf(n)} actions=mod_vlan_vid:${vdpVlanOf(n)}`)
      )
        originalMissing++
    const originalAuditMs = performance.now() - t5
    const scale = PORTS / ORIGINAL_PORTS
    const originalFullMs = originalMs * scale

    const report = {
      ports: PORTS,
      networks: NETWORKS,
      flows: installed,
      ours: {
        monitorLoadMs: Math.round(monitorMs),
        programMs: Math.round(programMs),
        processes: programCommands,
        auditMs: Math.round(auditMs),
        audit: {ok: audit?.ok, added: audit?.added, removed: audit?.removed},
        healMs: Math.round(healMs),
        heal: {added: heal?.added},
        rssMb: Number(rss.toFixed(1)),
      },
      original: {
        measuredPorts: ORIGINAL_PORTS,
        measuredMs: Math.round(originalMs),
        processes: originalProcesses,
        extrapolatedMs: Math.round(originalFullMs),
        auditMs: Math.round(originalAuditMs),
        auditMissing: originalMissing,
        auditCanDeleteStale: false,
      },
      ratio: {program: Number((originalFullMs / programMs).toFixed(1))},
    }
    console.log(
      `dataplane: ${PORTS} VM ports on ${NETWORKS} networks (${installed} flows of ours on br-ethd incl. 2 drops)`,
    )
    console.log(
      `  ours:     OVSDB view loaded in ${report.ours.monitorLoadMs} ms; all ports programmed in ${report.ours.programMs} ms with ${programCommands} ovs-ofctl processes`,
    )
    console.log(
      `            audit (nothing to do) ${report.ours.auditMs} ms, ${audit?.ok} flows in place; heal after br-int wiped ${report.ours.healMs} ms, ${heal?.added} re-added; RSS ${report.ours.rssMb} MB`,
    )
    console.log(
      `  original: ${ORIGINAL_PORTS} ports in ${report.original.measuredMs} ms with ${originalProcesses} processes -> ${PORTS} ports ≈ ${report.original.extrapolatedMs} ms`,
    )
    console.log(
      `            audit (two dumps + substring search, cannot delete stale flows) ${report.original.auditMs} ms`,
    )
    console.log(`  ratio: programming ${report.ratio.program}x faster`)
    console.log(JSON.stringify(report))
  } finally {
    await lab.destroy()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
