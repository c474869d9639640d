import {type UplinkShowData, uplinkView} from '../../src/control/views.js'
import {BaseCommand} from '../../src/cli/base-command.js'
import {uplinkLines} from '../../src/cli/views.js'
import {errorMessage} from '../../src/errors.js'
import {readOverrideFile} from '../../src/uplink/override-file.js'

export default class UplinkShow extends BaseCommand {
  static override summary = 'Show the uplink, why it was chosen, its bond members and the last change.'
  static override examples = ['<%= config.bin %> uplink show', '<%= config.bin %> uplink show --json']

  async run(): Promise<UplinkShowData & {answeredBy: 'daemon' | 'database'}> {
    const {flags} = await this.parse(UplinkShow)
    const {config} = this.agentConfig(flags.config)
    const {source, data} = await this.daemonOrDatabase(flags.config, 'uplink.show', (store) => {
      const path = config.general.uplink_override_file
      let override: UplinkShowData['override']
      try {
        override = {path, ifname: readOverrideFile(path) ?? null, error: null}
      } catch (err) {
        override = {path, ifname: null, error: errorMessage(err)}
      }
      return {...uplinkView(store.uplink.get()), mode: config.uplink.mode, override}
    })
    this.noteSource(source)
    for (const line of uplinkLines(data)) this.log(line)
    return {...data, answeredBy: source}
  }
}
