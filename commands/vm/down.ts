import {Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {waitForVsi} from '../../src/cli/wait-vsi.js'
import {callDaemon} from '../../src/control/client.js'

export default class VmDown extends BaseCommand {
  static override summary = 'A VM port went away: de-associate it from the switch.'
  static override examples = ['<%= config.bin %> vm down --port 7f1c0a52-0e3b-4a8e-9a55-3c2f6b1d9e01 --wait']
  static override flags = {
    port: Flags.string({summary: 'Port UUID.', required: true}),
    wait: Flags.boolean({summary: 'Wait until the de-association completed.'}),
    timeout: Flags.integer({summary: 'Seconds to wait with --wait.', default: 60}),
  }

  async run(): Promise<{portUuid: string; state: string}> {
    const {flags} = await this.parse(VmDown)
    const {config} = this.agentConfig(flags.config)
    const rec = await callDaemon(config.general.control_socket, 'vm.down', {portUuid: flags.port})
    let state: string = rec.state
    if (flags.wait) {
      await waitForVsi(config.general.control_socket, rec.portUuid, (v) => v === null, flags.timeout * 1000)
      state = 'deassociated'
    }
    this.log(`${rec.portUuid}: ${state === 'deassociated' ? 'de-associated' : `${state} (de-association queued)`}`)
    return {portUuid: rec.portUuid, state}
  }
}
