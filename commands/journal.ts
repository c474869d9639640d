import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base-command.js'
import {journalLine, parseSince} from '../src/cli/journal.js'
import {type JournalEntry, MAX_JOURNAL_QUERY} from '../src/store/journal-repo.js'

export default class Journal extends BaseCommand {
  static override summary = 'The event journal: uplink changes, VM events, associations, failures, oldest first.'
  static override description =
    'Every part of the daemon records what it did in the journal of its database (pruned to the newest entries). ' +
    'Each line is: time (UTC), kind, subject (port UUID, interface or -), then the details as key=value.'
  static override examples = [
    '<%= config.bin %> journal',
    '<%= config.bin %> journal --since 10m',
    '<%= config.bin %> journal --since 2026-11-30T16:00:00Z --limit 1000 --json',
  ]
  static override flags = {
    since: Flags.string({summary: 'Only entries since then: a duration back (90s, 10m, 2h, 7d) or an ISO 8601 time.'}),
    limit: Flags.integer({
      summary: `The newest N entries (1 to ${MAX_JOURNAL_QUERY}).`,
      default: 50,
      min: 1,
      max: MAX_JOURNAL_QUERY,
    }),
  }

  async run(): Promise<{source: 'daemon' | 'database'; entries: JournalEntry[]}> {
    const {flags} = await this.parse(Journal)
    const query = {
      limit: flags.limit,
      ...(flags.since === undefined ? {} : {since: parseSince(flags.since, Date.now())}),
    }
    const {source, data} = await this.daemonOrDatabase(
      flags.config,
      'journal',
      (store) => store.journal.list(query),
      query,
    )
    this.noteSource(source)
    if (data.length === 0)
      this.log(flags.since === undefined ? 'the journal is empty' : `no journal entries since ${flags.since}`)
    for (const e of data) this.log(journalLine(e))
    return {source, entries: data}
  }
}
