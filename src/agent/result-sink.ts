import type {Clock} from '../core/clock.js'
import type {VsiRecord} from '../model/vsi.js'
import type {Store} from '../store/store.js'

/**
 * A VM port's final result, as its controller hears it: associated (with the switch's VLAN and the local
 * one), or the association or de-association failed, or it ended. Reported in the transaction that commits it.
 */
export interface VmResult {
  portUuid: string
  outcome: 'associated' | 'association-failed' | 'deassociated' | 'deassociation-failed'
  failReason: string | null
  vdpVlan: number | null
  localVlan: number | null
}

/** Who hears each result: the controller's outbox (src/rpc/vm-result-outbox.ts) with [rpc] transport = amqp. */
export interface VmResultReporter {
  /** Called inside the transaction that commits the result: a throw rolls the result back with it. */
  report(result: VmResult, now: number): void
}

/** One association the switch accepted, ready to commit. */
export interface AssociatedResult {
  port: VsiRecord
  uplink: string
  /** The VLAN the switch gave; null: none (reported as associated without a VLAN). */
  vid: number | null
  /** The datapath's local VLAN for the port (`driver = ovs`), else the recorded one. */
  localVlan: number | null
}

/** A failed association, with what the retry policy decided. */
export interface FailedResult {
  reason: string
  attempts: number
  /** null: no retry (the budget is spent, or a hard failure): the row ends `failed`. */
  nextRetryAt: number | null
  retryInMs: number | null
  /** The VLAN the switch may still hold (an unanswered request), else null. */
  vdpVlan: number | null
  /** The journal entry's kind: `vsi-failed` (a request failed) or `vsi-lost` (an association was lost). */
  kind: 'vsi-failed' | 'vsi-lost'
}

/**
 * Where the VDP reconciler (./reconciler.ts) commits what happened to each VM port: state, VLANs, journal entry
 * and report together, one transaction per call. The reconciler decides; the sink records and reports, so no
 * storage or controller format lives in the VDP path.
 */
export interface ResultSink {
  /** Work waits (for the uplink, a retry, the next start): state `pending` with why. */
  pending(portUuids: readonly string[], reason: string): void
  /** Requests for these ports are going to the switch on `uplink`. */
  associating(portUuids: readonly string[], uplink: string): void
  deassociating(portUuid: string): void
  /** Associations the switch accepted, committed together (the answers of one VDPDU). Rows no longer wanted up are skipped. */
  associated(results: readonly AssociatedResult[]): void
  failed(port: VsiRecord, result: FailedResult): void
  /** The switch confirmed an association nobody waited for; reported when its VLAN changed. */
  confirmed(port: VsiRecord, vid: number | null, localVlan: number | null): void
  /** The switch moved an association to another VLAN (adopted and reported). */
  vlanChanged(port: VsiRecord, from: number | null, to: number | null, localVlan: number | null): void
  /** The switch restarted or went away: these associations await its confirmation again. */
  awaitingConfirmation(portUuids: readonly string[], reason: string): void
  /** The de-association ended (reason null: confirmed by the switch): the row ends. */
  deassociated(port: VsiRecord, reason: string | null): void
  /** The VDP session on `ifname` closed: every port wanted up and not failed waits for the uplink. */
  sessionClosed(ifname: string, reason: string): void
  /** A new uplink: ports taken down before they ever reached a switch end; failed ones get a fresh budget. */
  newUplink(neverSent: readonly string[], failedUp: readonly string[]): void
}

/**
 * The result sink of the daemon: SQLite (background writes, kept in memory while the storage refuses them:
 * src/store/write-backlog.ts) and, when a controller is configured, its outbox in the same transaction.
 */
export class StoreResultSink implements ResultSink {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly reporter?: VmResultReporter,
  ) {}

  pending(portUuids: readonly string[], reason: string): void {
    const {store} = this
    const now = this.clock.now()
    store.persist(portUuids.length === 1 ? 'a VM port waiting' : 'VM ports waiting', () => {
      for (const id of portUuids) store.vsis.update(id, {state: 'pending', failReason: reason}, now)
    })
  }

  associating(portUuids: readonly string[], uplink: string): void {
    this.store.persist('VM ports associating', () =>
      this.store.vsis.markMany(portUuids, 'associating', uplink, this.clock.now()),
    )
  }

  deassociating(portUuid: string): void {
    this.store.persist('a VM port de-associating', () =>
      this.store.vsis.update(portUuid, {state: 'deassociating'}, this.clock.now()),
    )
  }

  associated(results: readonly AssociatedResult[]): void {
    const {store} = this
    const now = this.clock.now()
    const current = store.vsis.getMany(results.map((r) => r.port.portUuid))
    store.persist('association results', () => {
      for (const {port, uplink, vid, localVlan} of results) {
        // A later "down" took over while the switch answered: its own event records the end.
        if (current.get(port.portUuid)?.desired !== 'up') continue
        store.vsis.update(
          port.portUuid,
          {
            state: 'associated',
            vdpVlan: vid,
            localVlan,
            uplink,
            attempts: 0,
            failReason: vid === null ? 'the switch assigned no VLAN' : null,
            nextRetryAt: null,
          },
          now,
        )
        store.journal.add('vsi-associated', port.portUuid, {vlan: vid, uplink}, now)
        this.reporter?.report(
          {portUuid: port.portUuid, outcome: 'associated', failReason: null, vdpVlan: vid, localVlan},
          now,
        )
      }
    })
  }

  failed(port: VsiRecord, r: FailedResult): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('a failed association', () => {
      store.vsis.update(
        port.portUuid,
        {
          state: r.nextRetryAt !== null ? 'pending' : 'failed',
          failReason: r.reason,
          attempts: r.attempts,
          vdpVlan: r.vdpVlan,
          nextRetryAt: r.nextRetryAt,
        },
        now,
      )
      store.journal.add(r.kind, port.portUuid, {reason: r.reason, attempts: r.attempts, retryInMs: r.retryInMs}, now)
      this.reporter?.report(
        {
          portUuid: port.portUuid,
          outcome: 'association-failed',
          failReason: r.reason,
          vdpVlan: null,
          localVlan: port.localVlan,
        },
        now,
      )
    })
  }

  confirmed(port: VsiRecord, vid: number | null, localVlan: number | null): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('a confirmed association', () => {
      store.vsis.update(port.portUuid, {state: 'associated', vdpVlan: vid, localVlan, failReason: null}, now)
      store.journal.add('vsi-confirmed', port.portUuid, {vlan: vid}, now)
      if (port.vdpVlan !== vid)
        this.reporter?.report(
          {portUuid: port.portUuid, outcome: 'associated', failReason: null, vdpVlan: vid, localVlan},
          now,
        )
    })
  }

  vlanChanged(port: VsiRecord, from: number | null, to: number | null, localVlan: number | null): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('a VLAN change', () => {
      store.vsis.update(port.portUuid, {vdpVlan: to, localVlan}, now)
      store.journal.add('vsi-vlan-changed', port.portUuid, {from, to}, now)
      this.reporter?.report(
        {portUuid: port.portUuid, outcome: 'associated', failReason: null, vdpVlan: to, localVlan},
        now,
      )
    })
  }

  awaitingConfirmation(portUuids: readonly string[], reason: string): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('associations to re-confirm', () => {
      for (const id of portUuids)
        store.vsis.update(id, {state: 'associating', failReason: `re-confirming with the switch: ${reason}`}, now)
      store.journal.add('vdp-bridge-restarted', null, {reason, vsis: portUuids.length}, now)
    })
  }

  deassociated(port: VsiRecord, reason: string | null): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('a de-association result', () => {
      store.vsis.delete(port.portUuid)
      store.journal.add('vsi-deassociated', port.portUuid, {reason}, now)
      this.reporter?.report(
        {
          portUuid: port.portUuid,
          outcome: reason ? 'deassociation-failed' : 'deassociated',
          failReason: reason,
          vdpVlan: null,
          localVlan: port.localVlan,
        },
        now,
      )
    })
  }

  sessionClosed(ifname: string, reason: string): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('the VM ports of a closed VDP session', () => {
      for (const v of store.vsis.list()) {
        if (v.desired === 'up' && v.state !== 'failed')
          store.vsis.update(v.portUuid, {state: 'pending', failReason: `waiting for the uplink (${reason})`}, now)
      }
      store.journal.add('vdp-session-closed', ifname, {reason}, now)
    })
  }

  newUplink(neverSent: readonly string[], failedUp: readonly string[]): void {
    const {store} = this
    const now = this.clock.now()
    store.persist('the VM ports on a new uplink', () => {
      // Taken down before any request left for a switch: nothing of them is anywhere.
      for (const port of neverSent) {
        store.vsis.delete(port)
        store.journal.add('vsi-removed', port, {why: 'taken down before it was ever sent to a switch'}, now)
      }
      for (const port of failedUp) store.vsis.update(port, {state: 'pending', attempts: 0, nextRetryAt: null}, now)
    })
  }
}
