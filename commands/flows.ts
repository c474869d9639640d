import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base-command.js'
import {callDaemon} from '../src/control/client.js'
import type {AuditResult, FlowsView} from '../src/dataplane/index.js'

export default class Flows extends BaseCommand {
  static override summary =
    'The OpenFlow flows of the agent ([dataplane] driver = ovs): desired and installed, per network, last audit.'
  static override examples = [
    '<%= config.bin %> flows',
    '<%= config.bin %> flows --json',
    '<%= config.bin %> flows --audit',
  ]
  static override flags = {
    audit: Flags.boolean({summary: 'Run an audit now (add what is missing, delete what is stale) before showing.'}),
  }

  async run(): Promise<FlowsView | null> {
    const {flags} = await this.parse(Flows)
    const {config} = this.agentConfig(flags.config)
    if (flags.audit) await callDaemon(config.general.control_socket, 'dataplane.audit')
    const view = await callDaemon(config.general.control_socket, 'dataplane.flows')
    if (!view || view.driver === 'none') {
      this.log('no datapath programming ([dataplane] driver = none)')
      return view
    }
    this.log(`driver ovs, ${view.state}${view.failReason ? `: ${view.failReason}` : ''}; uplink ${view.uplink ?? '-'}`)
    this.log(
      `bridges ${view.bridges.integration} / ${view.bridges.external}; patch ${view.patch ? `${view.patch.integration}(${view.patch.integrationOfport}) <-> ${view.patch.external}(${view.patch.externalOfport})` : '-'}`,
    )
    for (const n of view.networks)
      this.log(
        `network ${n.netUuid}: lvid ${n.lvid} <-> VLAN ${n.vdpVlan}, ${n.ports} port(s)${n.error ? `, error: ${n.error}` : ''}`,
      )
    this.log(`\ndesired (${view.desired.length}):`)
    for (const f of view.desired) this.log(`  ${f}`)
    this.log(`installed (${view.installed.length}):`)
    for (const f of view.installed) this.log(`  ${f}`)
    if (view.lastAudit) this.log(`\nlast audit (${view.lastAudit.reason}): ${auditText(view.lastAudit)}`)
    return view
  }
}

function auditText(a: AuditResult): string {
  const errors = a.errors.map((e) => `${e.network}: ${e.reason}`).join('; ')
  return `${a.added} added, ${a.removed} removed, ${a.ok} in place${errors ? `; errors: ${errors}` : ''}`
}
