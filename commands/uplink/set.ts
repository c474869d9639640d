import {Args} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {DaemonUnreachableError, callDaemon} from '../../src/control/client.js'
import {validateIfName} from '../../src/net/ifname.js'
import {writeOverrideFile} from '../../src/uplink/override-file.js'

export default class UplinkSet extends BaseCommand {
  static override summary = 'Pin the uplink to IF (writes the static override file atomically).'
  static override description = `The override wins over [uplink] static_interface and LLDP detection until \`vdp-agent uplink clear\`.
A running daemon applies it at once, without a restart.`
  static override args = {ifname: Args.string({required: true, description: 'Interface name (a bond slave resolves to its bond).'})}
  static override examples = ['<%= config.bin %> uplink set eth5']

  async run(): Promise<{ifname: string; file: string; applied: boolean; uplink?: unknown}> {
    const {args, flags} = await this.parse(UplinkSet)
    const ifname = validateIfName(args.ifname)
    const {config} = this.agentConfig(flags.config)
    const file = config.general.uplink_override_file
    writeOverrideFile(file, ifname)
    this.log(`uplink override set to ${ifname} (${file})`)
    try {
      const uplink = await callDaemon(config.general.control_socket, 'uplink.reevaluate')
      this.log('the running daemon applied it')
      return {ifname, file, applied: true, uplink}
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err
      this.log('the daemon is not running; it will use the override when it starts')
      return {ifname, file, applied: false}
    }
  }
}
