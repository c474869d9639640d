import {type StatusView, statusFromStore} from '../src/control/views.js'
import {BaseCommand} from '../src/cli/base-command.js'
import {statusLines} from '../src/cli/views.js'

export default class Status extends BaseCommand {
  static override summary = 'Is the daemon running, which uplink, how many neighbours and VSIs by state.'
  static override description =
    'With the daemon down, answers from its database and says so. From the daemon, also its periodic tasks (reconcile, prune): period, last run, failures.'
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --json']

  async run(): Promise<StatusView> {
    const {flags} = await this.parse(Status)
    const {source, data} = await this.daemonOrDatabase(flags.config, 'status', (store) => ({
      source: 'database',
      daemon: {running: false},
      ...statusFromStore(store),
    }))
    const status = {...data, source}
    for (const line of statusLines(status)) this.log(line)
    return status
  }
}
