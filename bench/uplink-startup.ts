/**
 * bench/uplink-startup: start-up against a switch that is already talking (issue 10 item 8), wall clock.
 *
 *   node dist/bench/uplink-startup.js [--runs 5]
 *
 * Debian's lldpad plays the switch in a "tor" namespace: EVB bridge TLV on its nearest-customer-bridge agent,
 * LLDPDUs every 30 s (its default msgTxInterval). Each run waits until lldpad has been quiet for 3 s (so its
 * next periodic LLDPDU is ~27 s away), then starts, in the "host" namespace, one after the other:
 *  - our daemon (rxtx): process spawn -> "uplink changed ... up" (the daemon's log time);
 *  - lldpad as the station, the peer: process spawn -> EVB bridge TLV seen (`lldptool -t -n -V evb`, polled
 *    every 100 ms, so ±100 ms);
 *  - our daemon with `[lldp] mode = rx` (listen only, the behaviour before item 8): spawn -> up (one run, it
 *    waits for lldpad's period).
 * Reported: medians and the ratio peer : ours.
 */
import {AgentRunner, makeAgentHome} from '../src/lab/agent-runner.js'
import {Lab} from '../src/lab/netns.js'
import {configureEvb, startLldpad, waitForEvbPeer} from '../test/helpers/peers.js'
import {startProbe} from '../test/helpers/probe-client.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const RUNS = opt('runs', 5)
const TOR_MAC = '02:00:00:00:02:0f'
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main(): Promise<void> {
  const lab = new Lab()
  try {
    const host = await lab.addNamespace('host')
    const tor = await lab.addNamespace('tor')
    await lab.addVethPair({ns: host, ifname: 'hx', mac: '02:00:00:00:01:0f'}, {ns: tor, ifname: 'tx', mac: TOR_MAC})
    await lab.waitForOperstate(host, 'hx', 'up')
    const bridge = await startLldpad(lab, tor)
    await configureEvb(bridge, 'tx', 'bridge')
    /** lldpad's LLDPDUs as the host hears them. */
    const hostSide = await startProbe(lab, host, 'frame-probe')
    await hostSide.request('open', {id: 'h', ifname: 'hx', ethertype: 0x88cc, multicast: ['01:80:c2:00:00:00']})
    async function quiet(ms = 3000): Promise<void> {
      for (;;) {
        try {
          await hostSide.waitFor((m) => m.ev === 'frame' && m.src === TOR_MAC, {
            from: hostSide.mark(),
            timeoutMs: ms,
            what: 'lldpad LLDPDU',
          })
        } catch {
          return
        }
      }
    }

    async function ours(extra = ''): Promise<{total: number; afterStart: number}> {
      await quiet()
      const home = makeAgentHome(`[uplink]\nmode = auto\ncandidate_kinds = veth\n${extra}`, {logLevel: 'info'})
      const t0 = Date.now()
      const agent = await AgentRunner.start(lab, host, home)
      const up = await agent.waitForLine((l) => l.msg === 'uplink changed' && l.state === 'up', {timeoutMs: 40_000})
      const started = agent.lines.find((l) => l.msg === 'vdp-agent daemon started')!
      await agent.stop() // a shutdown LLDPDU: lldpad forgets us, the next run is a new neighbour again
      return {total: up.time! - t0, afterStart: up.time! - started.time!}
    }

    async function peer(): Promise<number> {
      await quiet()
      const t0 = Date.now()
      const station = await startLldpad(lab, host)
      await configureEvb(station, 'hx', 'station')
      await waitForEvbPeer(lab, station, 'hx', 'bridge', 40_000)
      const t = Date.now() - t0
      await station.stop()
      return t
    }

    const oursRuns: {total: number; afterStart: number}[] = []
    const peerRuns: number[] = []
    for (let i = 0; i < RUNS; i++) {
      oursRuns.push(await ours())
      peerRuns.push(await peer())
    }
    const rxOnly = await ours('[lldp]\nmode = rx\n')
    const report = {
      runs: RUNS,
      oursMs: {
        median: median(oursRuns.map((r) => r.total)),
        afterDaemonStart: median(oursRuns.map((r) => r.afterStart)),
        all: oursRuns.map((r) => r.total),
      },
      lldpadStationMs: {median: median(peerRuns), all: peerRuns},
      rxOnlyMs: rxOnly.total,
      ratioLldpadToOurs: Number((median(peerRuns) / median(oursRuns.map((r) => r.total))).toFixed(2)),
      target: 'uplink up < 2000 ms after the daemon starts, with the switch sending every 30 s',
    }
    console.log(`start-up against a switch already talking (lldpad, 30 s interval), ${RUNS} runs`)
    console.log(
      `  ours (rxtx): spawn -> uplink up median ${report.oursMs.median} ms (${report.oursMs.afterDaemonStart} ms after the daemon's start line)`,
    )
    console.log(
      `  lldpad as station: spawn -> bridge EVB TLV seen median ${report.lldpadStationMs.median} ms   ratio lldpad : ours = ${report.ratioLldpadToOurs}`,
    )
    console.log(`  ours with [lldp] mode = rx (listen only): ${report.rxOnlyMs} ms`)
    console.log(JSON.stringify(report))
    await hostSide.close()
  } finally {
    await lab.destroy()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
