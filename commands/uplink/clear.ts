import {BaseCommand} from '../../src/cli/base-command.js'
import {DaemonUnreachableError, callDaemon} from '../../src/control/client.js'
import type {UplinkReevaluated} from '../../src/control/protocol.js'
import {clearOverrideFile} from '../../src/uplink/override-file.js'

export default class UplinkClear extends BaseCommand {
  static override summary = 'Remove the static uplink override; the config or LLDP decides again.'
  static override examples = ['<%= config.bin %> uplink clear']

  async run(): Promise<{removed: boolean; file: string; applied: boolean; uplink?: UplinkReevaluated}> {
    const {flags} = await this.parse(UplinkClear)
    const {config} = this.agentConfig(flags.config)
    const file = config.general.uplink_override_file
    const removed = clearOverrideFile(file)
    this.log(removed ? `uplink override removed (${file})` : `no uplink override was set (${file})`)
    try {
      const uplink = await callDaemon(config.general.control_socket, 'uplink.reevaluate')
      return {removed, file, applied: true, uplink}
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err
      return {removed, file, applied: false}
    }
  }
}
