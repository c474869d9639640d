import type {StatusView} from '../src/agent/status.js'
import {statusFromStore} from '../src/agent/status.js'
import {BaseCommand} from '../src/cli/base-command.js'
import {ago} from '../src/cli/table.js'

export default class Status extends BaseCommand {
  static override summary = 'Is the daemon running, which uplink, how many neighbours and VSIs by state.'
  static override description = 'With the daemon down, answers from its database and says so.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json']

  async run(): Promise<StatusView> {
    const {flags} = await this.parse(Status)
    const {source, data} = await this.daemonOrDatabase<StatusView>(flags.config, 'status', (store) => ({
      source: 'database',
      daemon: {running: false},
      ...statusFromStore(store),
    }))
    const status = {...data, source}
    const u = status.uplink
    this.log(`daemon:    ${status.daemon.running ? `running (pid ${status.daemon.pid}, since ${status.daemon.startedAt})` : 'not running (state from its database)'}`)
    this.log(`uplink:    ${u.ifname ?? 'none'}  ${u.state}${u.source ? `  via ${u.source}` : ''}${u.reason ? `  (${u.reason})` : ''}`)
    if (u.changedAt) this.log(`           last change ${ago(Date.parse(u.changedAt))}`)
    if (status.override?.error) this.log(`override:  INVALID: ${status.override.error}`)
    this.log(`neighbors: ${status.neighbors.total} (${status.neighbors.evbBridges} EVB bridge)`)
    const states = Object.entries(status.vsis.byState).map(([s, n]) => `${s} ${n}`).join(', ')
    this.log(`vsis:      ${status.vsis.total}${states ? ` (${states})` : ''}`)
    if (status.queue) this.log(`queue:     ${status.queue.waiting} waiting, ${status.queue.inFlight} in flight`)
    this.log(`outbox:    ${status.outbox.pending} pending`)
    const rpc = status.rpc
    if (rpc) this.log(`rpc:       ${rpc.transport === 'local' ? 'local (no controller)' : `${rpc.broker} ${rpc.connected ? 'connected' : 'NOT connected'}${rpc.lastHeartbeat ? `, heartbeat #${rpc.lastHeartbeat.seq} ${ago(Date.parse(rpc.lastHeartbeat.at))}` : ''}${rpc.lastError && !rpc.connected ? ` (${rpc.lastError})` : ''}`}`)
    return status
  }
}
