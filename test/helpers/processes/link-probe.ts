/**
 * link-probe: a LinkMonitor inside a lab namespace, over JSON lines (see probe-client.ts):
 *   ip netns exec <ns> node dist/test/helpers/processes/link-probe.js [--rcvbuf <bytes>] [--record]
 * Output: {ev:'ready', links}, {ev:'link', event}, {ev:'resync', reason, events}, {ev:'warning'|'error', ...},
 *   with --record also {ev:'raw', hex} per RTNLGRP_LINK datagram (for test fixtures).
 * Requests: {op:'list'} -> {links}; {op:'resync'}; {op:'block', ms} (busy-waits, to let the kernel queue
 *   overrun; emits {ev:'blocking'} first); {op:'exit'}.
 */
import {createInterface} from 'node:readline'
import {parseArgs} from 'node:util'
import {loadAfPacketAddon} from '../../../src/net/frames.js'
import {LinkMonitor} from '../../../src/net/links.js'
import {RtnetlinkLinkSource} from '../../../src/net/rtnetlink-source.js'
import {RTNLGRP_LINK} from '../../../src/net/rtnetlink.js'

const {values} = parseArgs({options: {rcvbuf: {type: 'string'}, record: {type: 'boolean'}}})
const rcvbuf = values.rcvbuf === undefined ? undefined : Number(values.rcvbuf)

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`)
}

const monitor = new LinkMonitor({source: new RtnetlinkLinkSource({rcvbuf})})
monitor.on('link', (event) => emit({ev: 'link', event}))
monitor.on('resync', (info) => emit({ev: 'resync', ...info}))
monitor.on('warning', (err) => emit({ev: 'warning', code: err.code, message: err.message}))
monitor.on('error', (err) => emit({ev: 'error', message: err.message}))

const recorder = values.record ? new (loadAfPacketAddon().NetlinkSocket)([RTNLGRP_LINK], 4 << 20) : undefined
recorder?.start((datagram) => emit({ev: 'raw', hex: datagram.toString('hex')}))

await monitor.start()

createInterface({input: process.stdin}).on('line', (line) => {
  let req: {op: string; seq: number; ms?: number}
  try {
    req = JSON.parse(line) as typeof req
  } catch {
    return
  }
  const reply = (extra: Record<string, unknown> = {}) => emit({ev: 'reply', seq: req.seq, ok: true, ...extra})
  switch (req.op) {
    case 'list':
      return reply({links: monitor.list()})
    case 'resync':
      return void monitor.resync().then(
        () => reply(),
        (err: Error) => emit({ev: 'reply', seq: req.seq, ok: false, error: {message: err.message}}),
      )
    case 'block': {
      emit({ev: 'blocking'})
      const until = Date.now() + Number(req.ms ?? 1000)
      while (Date.now() < until) {
        // the event loop stands still, so the kernel's queue for our socket fills up
      }
      return reply()
    }
    case 'exit':
      monitor.stop()
      recorder?.close()
      process.stdin.destroy()
      return reply()
    default:
      emit({ev: 'reply', seq: req.seq, ok: false, error: {code: 'PROBE_BAD_OP', message: req.op}})
  }
})
emit({ev: 'ready', pid: process.pid, links: monitor.list()})
