/**
 * Packs pending VSI TLVs into VDPDUs: one Manager ID TLV, then as many VSI TLV groups (each VSI TLV with its
 * org TLVs) of that manager as fit the ULPDU budget, in FIFO order, then an End TLV if asked.
 *
 * One manager per VDPDU because lldpad drops a VDPDU that holds a second Manager ID TLV.
 *
 * The station packs its requests with it, and the ToR simulator's bridge (src/lab/vdp-bridge.ts) its
 * responses and unsolicited De-Associates, so both ends build VDPDUs one way.
 */
import {Fifo} from '../core/fifo.js'
import {encodeTlv} from './vdp-codec.js'

export interface PackableVsi {
  readonly managerKey: string
  readonly managerId: Buffer
  /** Whether the item still wants to be sent; the owner clears it to withdraw the item (always true for one-shot items). */
  readonly queued: boolean
  /** Changes every time the item is queued again, so an old queue entry is recognised as stale. */
  readonly queueToken: number
}

interface Slot<T> {
  readonly item: T
  readonly token: number
}

export const MANAGER_ID_TLV_LENGTH = 18
const END_TLV = Buffer.alloc(2)

export interface PackedVdpdu<T> {
  readonly ulpdu: Buffer
  readonly items: T[]
}

export class VdpduPacker<T extends PackableVsi> {
  private readonly queues = new Map<string, Fifo<Slot<T>>>()

  /** `budget`: octets for Manager ID + VSI groups (End TLV not counted, see ulpduBudget). */
  constructor(private readonly options: {readonly budget: number; readonly endTlv: boolean}) {}

  /** Largest VSI group (VSI TLV + org TLVs) that fits a VDPDU on its own. */
  get maxGroupLength(): number {
    return this.options.budget - MANAGER_ID_TLV_LENGTH
  }

  push(item: T): void {
    let queue = this.queues.get(item.managerKey)
    if (queue === undefined) {
      queue = new Fifo<Slot<T>>()
      this.queues.set(item.managerKey, queue)
    }
    queue.push({item, token: item.queueToken})
  }

  /**
   * The next VDPDU: at most `maxItems` VSIs of the first manager with live items. `encode` gives an item's
   * octets (VSI TLV + org TLVs) at packing time, so it carries the VIDs known now.
   */
  take(maxItems: number, encode: (item: T) => Buffer): PackedVdpdu<T> | undefined {
    if (maxItems < 1) return undefined
    for (const [key, queue] of this.queues) {
      dropStale(queue)
      const head = queue.peek()
      if (head === undefined) {
        this.queues.delete(key)
        continue
      }
      const parts: Buffer[] = [encodeTlv({kind: 'manager-id', managerId: head.item.managerId})]
      const items: T[] = []
      let used = MANAGER_ID_TLV_LENGTH
      while (items.length < maxItems) {
        dropStale(queue)
        const slot = queue.peek()
        if (slot === undefined) break
        const octets = encode(slot.item)
        if (used + octets.length > this.options.budget && items.length > 0) break
        queue.shift()
        parts.push(octets)
        items.push(slot.item)
        used += octets.length
      }
      if (queue.length === 0) this.queues.delete(key)
      if (this.options.endTlv) parts.push(END_TLV)
      return {ulpdu: Buffer.concat(parts), items}
    }
    return undefined
  }
}

function dropStale<T extends PackableVsi>(queue: Fifo<Slot<T>>): void {
  for (;;) {
    const slot = queue.peek()
    if (slot === undefined || (slot.item.queued && slot.item.queueToken === slot.token)) return
    queue.shift()
  }
}
