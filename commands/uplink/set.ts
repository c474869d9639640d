import {existsSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {DaemonUnreachableError, callDaemon} from '../../src/control/client.js'
import type {UplinkReevaluated} from '../../src/control/protocol.js'
import {VdpAgentError} from '../../src/errors.js'
import {validateIfName} from '../../src/net/ifname.js'
import {writeOverrideFile} from '../../src/uplink/override-file.js'

export default class UplinkSet extends BaseCommand {
  static override summary = 'Pin the uplink to IF (writes the static override file atomically).'
  static override description = `The override wins over [uplink] static_interface and LLDP detection until \`vdp-agent uplink clear\`.
A running daemon applies it at once, without a restart, and the command checks that the uplink became IF
(exit 1, the pin stays, when the daemon cannot use it). An interface that does not exist on this host (as the
running daemon sees it, else /sys/class/net) is refused with exit 2 and nothing changes: a typo would otherwise
take every VM port off the switch. --force pins it anyway (for an interface that appears later).`
  static override args = {
    ifname: Args.string({required: true, description: 'Interface name (a bond slave resolves to its bond).'}),
  }
  static override flags = {
    force: Flags.boolean({
      summary: 'Pin IF even if no interface of that name exists yet (the node has no uplink until it appears).',
    }),
  }
  static override examples = ['<%= config.bin %> uplink set eth5', '<%= config.bin %> uplink set bond0 --force']

  async run(): Promise<{ifname: string; file: string; applied: boolean; uplink?: UplinkReevaluated}> {
    const {args, flags} = await this.parse(UplinkSet)
    const ifname = validateIfName(args.ifname)
    const {config} = this.agentConfig(flags.config)
    const file = config.general.uplink_override_file
    if (!flags.force && !(await this.interfaceExists(config.general.control_socket, ifname))) {
      throw new VdpAgentError(
        'NO_SUCH_INTERFACE',
        `no interface ${ifname} on this host, so nothing was changed (pinning it would leave the node without an uplink): check the name with \`ip link\`, or pin it anyway with --force`,
        {ifname},
      )
    }
    writeOverrideFile(file, ifname)
    this.log(`uplink override set to ${ifname} (${file})`)
    let uplink: UplinkReevaluated
    try {
      uplink = await callDaemon(config.general.control_socket, 'uplink.reevaluate', {ifname})
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err
      this.log('the daemon is not running; it will use the override when it starts')
      return {ifname, file, applied: false}
    }
    const became = uplink.source === 'override' && (uplink.ifname === ifname || uplink.bondMembers.includes(ifname))
    if (!became) {
      throw new VdpAgentError(
        'UPLINK_NOT_APPLIED',
        `the daemon did not take the override: its uplink is ${uplink.ifname ?? 'none'} (${uplink.state}${uplink.reason ? `, ${uplink.reason}` : ''}); see vdp-agent status and the daemon's log`,
        {ifname, file, uplink},
      )
    }
    if (uplink.requested && !uplink.requested.exists) {
      throw new VdpAgentError(
        'UPLINK_NOT_APPLIED',
        `interface ${ifname} does not exist on this host, so the daemon has no working uplink (the pin in ${file} stays until \`vdp-agent uplink clear\`): check the name with \`ip link\``,
        {ifname, file, uplink},
      )
    }
    if (uplink.state === 'up') this.log(`the running daemon now uses ${uplink.ifname} as its uplink`)
    else
      this.log(
        `the running daemon now uses ${uplink.ifname} as its uplink, but it is ${uplink.state}: ${uplink.reason ?? 'no reason given'}`,
      )
    return {ifname, file, applied: true, uplink}
  }

  /** As the running daemon sees it (its network namespace and link table); without a daemon, /sys/class/net. */
  private async interfaceExists(socket: string, ifname: string): Promise<boolean> {
    try {
      return (await callDaemon(socket, 'link.get', {ifname})).exists
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err
      return existsSync(`/sys/class/net/${ifname}`)
    }
  }
}
