import {Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {waitForVsi} from '../../src/cli/wait-vsi.js'
import {callDaemon} from '../../src/control/client.js'
import type {VsiRecord} from '../../src/model/vsi.js'

export default class VmUp extends BaseCommand {
  static override summary = 'A VM port came up: associate it with the switch (local transport, no controller).'
  static override description = `The daemon records the port, queues it, and associates it over VDP on the current uplink; with no
uplink it is kept and associated when the uplink comes up. Without --vlan the switch assigns the VLAN (VID 0).`
  static override examples = [
    '<%= config.bin %> vm up --port 7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01 --mac 52:54:00:12:34:56 --net 4b4c7a1e-2d1f-4c83-a1b6-1f0e9d8c7b6a --segment 20000 --vm-name web-1 --wait',
  ]
  static override flags = {
    port: Flags.string({summary: 'Port UUID (the VSIID).', required: true}),
    mac: Flags.string({summary: 'The VM port MAC address.', required: true}),
    net: Flags.string({summary: 'Network UUID.', required: true}),
    segment: Flags.integer({summary: 'Segmentation ID (the VDP group ID).', required: true}),
    'vm-name': Flags.string({summary: 'VM name (sent in the Cisco VM-name TLV).'}),
    'vm-uuid': Flags.string({summary: 'VM (instance) UUID.'}),
    ip: Flags.string({summary: 'VM IPv4 address (sent in the Cisco L3-address TLV).'}),
    vlan: Flags.integer({summary: 'Request this VLAN instead of letting the switch assign one.'}),
    wait: Flags.boolean({summary: 'Wait until the switch answered (associated or failed).'}),
    timeout: Flags.integer({summary: 'Seconds to wait with --wait.', default: 60}),
  }

  async run(): Promise<VsiRecord & {queued?: boolean}> {
    const {flags} = await this.parse(VmUp)
    const {config} = this.agentConfig(flags.config)
    const params = {
      portUuid: flags.port,
      mac: flags.mac,
      netUuid: flags.net,
      segmentationId: flags.segment,
      vmName: flags['vm-name'],
      vmUuid: flags['vm-uuid'],
      ipv4: flags.ip,
      vlan: flags.vlan,
    }
    let rec: VsiRecord & {queued?: boolean} = await callDaemon(config.general.control_socket, 'vm.up', params)
    if (flags.wait) {
      rec =
        (await waitForVsi(
          config.general.control_socket,
          rec.portUuid,
          (v) =>
            v !== null &&
            (v.state === 'associated' || v.state === 'failed' || (v.state === 'pending' && v.attempts > 0)),
          flags.timeout * 1000,
        )) ?? rec
    }
    this.log(
      `${rec.portUuid}: ${rec.state}${rec.vdpVlan !== null ? ` VLAN ${rec.vdpVlan}` : ''}${rec.uplink ? ` on ${rec.uplink}` : ''}${rec.failReason ? ` (${rec.failReason})` : ''}`,
    )
    if (flags.wait && rec.state !== 'associated') process.exitCode = 1
    return rec
  }
}
