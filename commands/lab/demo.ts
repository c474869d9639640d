import {Flags} from '@oclif/core'

import {VdpCommand} from '../../src/cli/vdp-command.js'

import {runControllerDemo} from '../../src/lab/demo-controller.js'
import {runDemo} from '../../src/lab/demo.js'

export default class LabDemo extends VdpCommand {
  static override summary =
    'Run the lab demo: ToR simulator, the daemon, uplink found, VLANs assigned, all in namespaces.'
  static override description = `Needs root (it creates network namespaces and veth pairs, never touching the host's interfaces) and
removes everything it created when it ends or on Ctrl-C.`

  static override flags = {
    controller: Flags.boolean({
      summary:
        'With a private RabbitMQ and a stand-in DFA server pushing the VM list (make demo-controller; from a checkout).',
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(LabDemo)
    if (process.getuid?.() !== 0) this.error('the demo creates network namespaces: run it as root', {exit: 1})
    if (flags.controller) await runControllerDemo({print: (line) => this.log(line)})
    else await runDemo({print: (line) => this.log(line)})
  }
}
