import {VdpCommand} from '../../src/cli/vdp-command.js'

import {runDemo} from '../../src/lab/demo.js'

export default class LabDemo extends VdpCommand {
  static override summary = 'Run the lab demo: ToR simulator, the daemon, uplink found, VLANs assigned, all in namespaces.'
  static override description = `Needs root (it creates network namespaces and veth pairs, never touching the host's interfaces) and
removes everything it created when it ends or on Ctrl-C.`

  async run(): Promise<void> {
    if (process.getuid?.() !== 0) this.error('the demo creates network namespaces: run it as root', {exit: 1})
    await runDemo({print: (line) => this.log(line)})
  }
}
