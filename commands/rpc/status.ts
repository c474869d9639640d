import type {RpcStatusView} from '../../src/control/protocol.js'
import {describeBroker, parseBrokerUrl} from '../../src/rpc/transport-url.js'
import {BaseCommand} from '../../src/cli/base-command.js'
import {ago} from '../../src/cli/table.js'

export default class RpcStatusCommand extends BaseCommand {
  static override summary =
    'The controller link: connected, broker (no credentials), last heartbeat, outbox depth and oldest message, last error.'
  static override description = 'With the daemon down, answers the outbox part from its database.'
  static override examples = ['<%= config.bin %> rpc status', '<%= config.bin %> rpc status --json']

  async run(): Promise<{source: 'daemon' | 'database'} & RpcStatusView> {
    const {flags} = await this.parse(RpcStatusCommand)
    const {config} = this.agentConfig(flags.config)
    const {source, data} = await this.daemonOrDatabase(flags.config, 'rpc.status', (store): RpcStatusView => {
      if (config.rpc.transport === 'local') return {transport: 'local'}
      const d = store.outbox.depth()
      return {
        transport: 'amqp',
        broker: describeBroker(parseBrokerUrl(config.rpc.url)),
        connected: false,
        outbox: {pending: d.pending, oldestAt: d.oldestAt === null ? null : new Date(d.oldestAt).toISOString()},
      }
    })
    this.noteSource(source)
    if (data.transport === 'local') {
      this.log('transport: local (no controller; VM events come from the CLI)')
      return {source, ...data}
    }
    this.log(`broker:     ${data.broker}  ${data.connected ? 'connected' : 'not connected'}`)
    if ('agentTopic' in data) {
      this.log(`topic:      ${data.agentTopic}  (replies on ${data.replyQueue})`)
      this.log(
        `heartbeat:  ${data.lastHeartbeat ? `#${data.lastHeartbeat.seq} ${ago(Date.parse(data.lastHeartbeat.at))}` : 'none sent yet'}`,
      )
      if (data.serverUplink)
        this.log(
          `server uplink: ${data.serverUplink.uplink ?? 'none'}${data.serverUplink.agrees === false ? '  (DISAGREES with ours; ours is reported)' : ''}`,
        )
      this.log(
        `bulk VM lists: ${data.bulkVmList.received}${data.bulkVmList.lastAt ? `, last ${ago(Date.parse(data.bulkVmList.lastAt))}` : ''}`,
      )
      if (data.badMessages > 0) this.log(`bad messages: ${data.badMessages} (see the journal)`)
      if (data.lastError) this.log(`last error: ${data.lastError}`)
    }
    const o = data.outbox
    this.log(
      `outbox:     ${o.pending} pending${o.oldestAt ? `, oldest ${ago(Date.parse(o.oldestAt))}` : ''}${'delivered' in o ? `; ${o.inFlight} in flight, ${o.delivered} delivered, ${o.failures} failed attempts` : ''}`,
    )
    if ('lastError' in o && o.lastError) this.log(`outbox error: ${o.lastError}`)
    return {source, ...data}
  }
}
