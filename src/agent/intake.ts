import {VdpAgentError} from '../errors.js'
import type {Clock} from '../core/clock.js'
import type {VsiRecord} from '../model/vsi.js'
import type {Store} from '../store/store.js'
import type {EventQueue} from './event-queue.js'
import type {AgentEvent} from './events.js'
import {parsePortUuid, parseVmBulk, parseVmUp} from './vm-port.js'

/** What `vm bulk` (and the controller's VM list) answers: how many of each kind were taken, and queued. */
export interface VmBulkOutcome {
  up: number
  alreadyAssociated: number
  down: number
  unknownDown: number
  queued: number
}

export interface VmIntakeDeps {
  store: Store
  queue: EventQueue<AgentEvent>
  clock: Clock
}

/**
 * The one way VM events enter the agent, for the control socket and the controller's RPC server alike:
 * validated as untrusted input (src/agent/vm-port.ts), the desired state recorded in SQLite with its journal
 * entry, then the work queued. Recorded first, so a full queue or a crash loses nothing: the next uplink up
 * re-drives every recorded port. A write the database refuses is refused to the caller (STORE_WRITE_FAILED),
 * so the client knows it was not recorded.
 */
export class VmIntake {
  constructor(private readonly deps: VmIntakeDeps) {}

  /** A VM port should be associated. Throws `BAD_ARGUMENT` (VmPortError) for invalid params. */
  up(params: unknown): VsiRecord & {queued: boolean} {
    const port = parseVmUp(params)
    const {store, queue} = this.deps
    const now = this.deps.clock.now() // the database's one time base (docs/architecture.md, Time)
    const rec = store.record(`VM port ${port.portUuid} up`, () => {
      const r = store.vsis.requestUp(port, now)
      store.journal.add(
        'vm-up',
        port.portUuid,
        {mac: port.mac, segment: port.segmentationId, vlan: port.vlan ?? null},
        now,
      )
      return r
    })
    if (rec.state === 'associated') return {...rec, queued: false}
    queue.push('vm', {kind: 'vm-up', port: rec}, {ports: [rec.portUuid]})
    return {...rec, queued: true}
  }

  /** A VM port should be de-associated. Throws `UNKNOWN_PORT` when no such port is recorded. */
  down(params: unknown): VsiRecord & {queued: boolean} {
    const portUuid = parsePortUuid(params)
    const {store, queue} = this.deps
    const now = this.deps.clock.now()
    const rec = store.record(`VM port ${portUuid} down`, () => {
      const r = store.vsis.requestDown(portUuid, now)
      if (r) store.journal.add('vm-down', portUuid, {}, now)
      return r
    })
    if (!rec)
      throw new VdpAgentError(
        'UNKNOWN_PORT',
        `no VM port ${portUuid} is recorded, so there is nothing to take down (see vdp-agent vsi list)`,
        {portUuid},
      )
    queue.push('vm', {kind: 'vm-down', portUuid}, {ports: [portUuid]})
    return {...rec, queued: true}
  }

  /** A bulk VM list (the controller's after a restart, or `vm bulk`): one transaction, one batched event. */
  bulk(params: unknown): VmBulkOutcome {
    const {up, down} = parseVmBulk(params)
    const {store, queue} = this.deps
    const now = this.deps.clock.now()
    const {recorded, known} = store.record(`a bulk of ${up.length} up and ${down.length} down VM ports`, () => {
      const recorded = up.map((p) => store.vsis.requestUp(p, now))
      const known = down.filter((id) => store.vsis.requestDown(id, now) !== undefined)
      store.journal.add('vm-bulk', null, {up: up.length, down: known.length}, now)
      return {recorded, known}
    })
    const todo = recorded.filter((r) => r.state !== 'associated')
    if (todo.length > 0 || known.length > 0) {
      queue.push('bulk', {kind: 'vm-bulk', up: todo, down: known}, {ports: [...todo.map((r) => r.portUuid), ...known]})
    }
    return {
      up: recorded.length,
      alreadyAssociated: recorded.length - todo.length,
      down: known.length,
      unknownDown: down.length - known.length,
      queued: todo.length + known.length,
    }
  }
}
