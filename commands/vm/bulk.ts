import {readFileSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {callDaemon} from '../../src/control/client.js'
import {VdpAgentError} from '../../src/errors.js'

export default class VmBulk extends BaseCommand {
  static override summary = 'Send a bulk VM list (JSON {"up": [...], "down": [...]}) in one request.'
  static override description = `Like the controller's bulk VM event: every port is recorded in one transaction and associated in
one batch, so many VSIs share ECPDUs. Each "up" item has portUuid, mac, netUuid, segmentationId and
optionally vmName, vmUuid, ipv4, vlan; "down" lists port UUIDs. FILE "-" reads standard input.`
  static override args = {file: Args.string({required: true, description: 'JSON file, or - for standard input.'})}
  static override flags = {timeout: Flags.integer({summary: 'Seconds to wait for the daemon to record the list.', default: 60})}
  static override examples = ['<%= config.bin %> vm bulk ports.json']

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(VmBulk)
    const {config} = this.agentConfig(flags.config)
    let list: unknown
    try {
      list = JSON.parse(readFileSync(args.file === '-' ? 0 : args.file, 'utf8'))
    } catch (err) {
      throw new VdpAgentError('BAD_ARGUMENT', `${args.file}: not a readable JSON file (${(err as Error).message})`)
    }
    const result = (await callDaemon(config.general.control_socket, 'vm.bulk', list, flags.timeout * 1000)) as {up: number; down: number; queued: number}
    this.log(`recorded ${result.up} up and ${result.down} down; ${result.queued} queued for the switch (see vdp-agent vsi list)`)
    return result
  }
}
