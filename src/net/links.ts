/**
 * The link inventory, kept current from the kernel: LinkMonitor subscribes to RTNLGRP_LINK, dumps every
 * link, and from then on applies notifications (no polling of `ip link`). After a receive-queue overrun
 * (ENOBUFS: the kernel dropped notifications) it re-dumps and reports the difference as events.
 * The model and its event rules live in link-table.ts; importing this module loads no native code (the
 * rtnetlink source is loaded by start()).
 */
import {EventEmitter} from 'node:events'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {VdpAgentError} from '../errors.js'
import {compareBondMembers, parseProcBonding, type BondMembersCheck} from './bonding.js'
import {validateIfName} from './ifname.js'
import {
  applyLinkMessage,
  diffLinkTables,
  emptyLinkTable,
  linkTableFromMessages,
  type LinkEvent,
  type LinkInfo,
  type LinkTable,
} from './link-table.js'
import type {LinkMessageSource} from './link-source.js'
import type {RtLinkMessage} from './rtnetlink.js'

export * from './link-table.js'
export type {RtLinkMessage} from './rtnetlink.js'
export type {BondMembersCheck} from './bonding.js'
export type {LinkMessageSink, LinkMessageSource} from './link-source.js'

export type ResyncReason = 'overrun' | 'requested'

export interface LinkMonitorEvents {
  /** Every link event, whatever its type. */
  link: [LinkEvent]
  added: [LinkEvent & {type: 'added'}]
  removed: [LinkEvent & {type: 'removed'}]
  changed: [LinkEvent & {type: 'changed'}]
  renamed: [LinkEvent & {type: 'renamed'}]
  /** A re-dump completed; its differences were emitted as events with source 'resync' just before. */
  resync: [{reason: ResyncReason; events: number}]
  warning: [VdpAgentError]
  error: [Error]
}

export interface LinkMonitorOptions {
  /** Default: RtnetlinkLinkSource (our addon's NETLINK_ROUTE socket). */
  source?: LinkMessageSource
  /** Directory of the bonding driver's reports; default /proc/net/bonding. */
  procBondingDir?: string
}

/** Re-dump at most this many times in a row while notifications keep racing the dump. */
const QUIET_DUMP_ATTEMPTS = 3

export class LinkMonitor extends EventEmitter<LinkMonitorEvents> {
  private table: LinkTable = emptyLinkTable
  private source?: LinkMessageSource
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle'
  /** While a dump is in flight, notifications wait here (see quietDump). */
  private queued?: RtLinkMessage[]
  private resyncing?: Promise<void>
  private resyncAgain = false

  constructor(private readonly opts: LinkMonitorOptions = {}) {
    super()
  }

  /** Subscribes, then dumps: no change can fall between the two. Resolves with the inventory in place. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new VdpAgentError('LINK_MONITOR_STATE', `cannot start a ${this.state} LinkMonitor`)
    this.state = 'starting'
    try {
      this.source = this.opts.source ?? new (await import('./rtnetlink-source.js')).RtnetlinkLinkSource()
      this.source.subscribe({
        messages: (messages) => this.onMessages(messages),
        overrun: () => this.onOverrun(),
        warning: (err) => this.emit('warning', err),
        error: (err) => this.emit('error', err),
      })
      this.table = await this.quietDump()
    } catch (err) {
      this.stop()
      throw err
    }
    if (this.state === 'starting') this.state = 'running'
  }

  stop(): void {
    this.state = 'stopped'
    this.source?.close()
    this.queued = undefined
  }

  /** Every link, in ifindex order. */
  list(): LinkInfo[] {
    return [...this.table.links.values()].sort((a, b) => a.index - b.index)
  }

  get(name: string): LinkInfo | undefined {
    for (const link of this.table.links.values()) if (link.name === name) return link
    return undefined
  }

  getByIndex(index: number): LinkInfo | undefined {
    return this.table.links.get(index)
  }

  /** The current table (immutable), for callers that want to run the reducer themselves. */
  snapshot(): LinkTable {
    return this.table
  }

  /**
   * Re-dumps and emits what changed since the last known state (source 'resync'). Concurrent requests
   * coalesce: one more dump runs after the current one, then all of them resolve.
   */
  resync(reason: ResyncReason = 'requested'): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true
      return this.resyncing
    }
    this.resyncing = (async () => {
      try {
        do {
          this.resyncAgain = false
          const after = await this.quietDump()
          if (this.state !== 'running') return
          const events = diffLinkTables(this.table, after, 'resync')
          this.table = after
          for (const event of events) this.emitLinkEvent(event)
          this.emit('resync', {reason, events: events.length})
        } while (this.resyncAgain && this.state === 'running')
      } finally {
        this.resyncing = undefined
      }
    })()
    return this.resyncing
  }

  /**
   * Bond members by netlink, cross-checked with /proc/net/bonding/<bond> when the file exists (a host
   * with the bonding driver). Names are compared whole.
   */
  async checkBondMembers(bond: string): Promise<BondMembersCheck> {
    const link = this.get(validateIfName(bond))
    if (link?.kind !== 'bond') throw new VdpAgentError('NOT_A_BOND', `${bond} is not a bond`, {bond, kind: link?.kind})
    const text = await readFile(join(this.opts.procBondingDir ?? '/proc/net/bonding', bond), 'utf8').catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined
        throw err
      },
    )
    return compareBondMembers(bond, link.bondMembers ?? [], text === undefined ? undefined : parseProcBonding(text))
  }

  private onMessages(messages: RtLinkMessage[]): void {
    if (this.queued) {
      this.queued.push(...messages)
      return
    }
    if (this.state !== 'running') return
    for (const message of messages) {
      const update = applyLinkMessage(this.table, message)
      this.table = update.table
      for (const event of update.events) this.emitLinkEvent(event)
    }
  }

  private onOverrun(): void {
    if (this.state === 'stopped') return
    // a dump is in flight: quietDump sees the mark and dumps again (the queue is no longer complete)
    if (this.queued) this.queued.push(OVERRUN_MARK)
    else
      void this.resync('overrun').catch((err: Error) => {
        if (this.state === 'running') this.emit('error', err)
      })
  }

  /**
   * A dump taken while no notification arrived, so it is the latest state. Notifications racing a dump
   * may describe states older or newer than it (they carry no sequence), so rather than guess, dump
   * again. After QUIET_DUMP_ATTEMPTS, apply the stragglers on top in order, which also ends in the
   * kernel's latest state; if notifications were lost meanwhile, schedule one more resync.
   */
  private async quietDump(): Promise<LinkTable> {
    for (let attempt = 1; ; attempt++) {
      this.queued = []
      let messages: RtLinkMessage[]
      try {
        messages = await this.source!.dump()
      } catch (err) {
        this.queued = undefined
        throw err
      }
      const raced = this.queued
      if (raced.length === 0 || attempt >= QUIET_DUMP_ATTEMPTS) {
        this.queued = undefined
        let table = linkTableFromMessages(messages)
        for (const message of raced) if (message !== OVERRUN_MARK) table = applyLinkMessage(table, message).table
        if (raced.includes(OVERRUN_MARK)) queueMicrotask(() => this.onOverrun())
        return table
      }
    }
  }

  private emitLinkEvent(event: LinkEvent): void {
    this.emit('link', event)
    switch (event.type) {
      case 'added':
        this.emit('added', event)
        break
      case 'removed':
        this.emit('removed', event)
        break
      case 'changed':
        this.emit('changed', event as LinkEvent & {type: 'changed'})
        break
      case 'renamed':
        this.emit('renamed', event as LinkEvent & {type: 'renamed'})
        break
    }
  }
}

/** Queued in place of the notifications an overrun lost: the dump in flight cannot be trusted either. */
const OVERRUN_MARK: RtLinkMessage = Object.freeze({type: 'newlink', family: -1, index: -1, linkType: 0, flags: 0})
