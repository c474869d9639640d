import {BaseCommand} from '../../src/cli/base-command.js'
import {ago, renderTable} from '../../src/cli/table.js'
import {Store, databasePath} from '../../src/store/store.js'
import type {OutboxMessage} from '../../src/store/outbox-repo.js'

export default class OutboxList extends BaseCommand {
  static override summary =
    'Messages for the controller not yet delivered (oldest first): method, subject, age, attempts, last error.'
  static override description =
    'Reads the database (read-only), so it works with the daemon running or not. Superseded messages are not listed.'
  static override examples = ['<%= config.bin %> outbox list', '<%= config.bin %> outbox list --json']

  async run(): Promise<{pending: number; messages: OutboxMessage[]}> {
    const {flags} = await this.parse(OutboxList)
    const {config} = this.agentConfig(flags.config)
    let store: Store
    try {
      store = Store.open(databasePath(config.general.state_dir), {readonly: true})
    } catch (err) {
      this.error(`cannot read the database: ${(err as Error).message}`, {exit: 3, code: 'NO_STATE'})
    }
    try {
      const messages = store.outbox.pending(1000)
      const pending = store.outbox.pendingCount()
      if (messages.length === 0) this.log('outbox empty')
      else {
        const now = Date.now()
        this.log(
          renderTable(
            ['ID', 'METHOD', 'SUBJECT', 'AGE', 'ATTEMPTS', 'LAST ERROR'],
            messages.map((m) => [m.id, m.method, m.subject, ago(m.createdAt, now), m.attempts, m.lastError]),
          ),
        )
        if (pending > messages.length) this.log(`(${pending - messages.length} more)`)
      }
      return {pending, messages}
    } finally {
      store.close()
    }
  }
}
