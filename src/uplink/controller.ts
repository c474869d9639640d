import {readFileSync} from 'node:fs'

import type {AgentConfig} from '../config/schema.js'
import {errorMessage} from '../errors.js'
import type {Logger} from '../log/logger.js'
import type {Store} from '../store/store.js'
import type {UplinkRecord} from '../store/uplink-repo.js'
import {readOverrideFile} from './override-file.js'
import {chooseUplinkPort} from './precedence.js'

export type LinkState = 'up' | 'down' | 'absent'

/** Operational state from sysfs; `lo`-style names are validated before they reach here. */
export function sysfsLinkState(ifname: string): LinkState {
  try {
    return readFileSync(`/sys/class/net/${ifname}/operstate`, 'utf8').trim() === 'up' ? 'up' : 'down'
  } catch {
    return 'absent'
  }
}

export interface UplinkTransition {
  previous: UplinkRecord | undefined
  current: UplinkRecord
}

export interface UplinkControllerDeps {
  store: Store
  log: Logger
  config: () => AgentConfig
  now: () => number
  linkState: (ifname: string) => LinkState
  onTransition: (t: UplinkTransition) => void
}

/**
 * Decides the uplink from the static sources (override file, then config) and records it. A garbage
 * override file is reported and the last valid override is kept, so a corrupted file never silently
 * moves the node to another port.
 */
export class UplinkController {
  private lastGoodOverride?: string
  private overrideError: string | null = null

  constructor(private readonly deps: UplinkControllerDeps) {}

  get override(): {ifname: string | null; error: string | null} {
    return {ifname: this.lastGoodOverride ?? null, error: this.overrideError}
  }

  /** Recompute the uplink; persist and report a transition when anything changed. */
  evaluate(why: string): UplinkRecord {
    const {store, log, config, now} = this.deps
    const cfg = config()
    try {
      this.lastGoodOverride = readOverrideFile(cfg.general.uplink_override_file)
      this.overrideError = null
    } catch (err) {
      const message = errorMessage(err)
      if (message !== this.overrideError) log.error({err: message, keeping: this.lastGoodOverride ?? null}, 'uplink override file is invalid; keeping the last valid override')
      this.overrideError = message
    }
    const choice = chooseUplinkPort({
      override: this.lastGoodOverride,
      configStatic: cfg.uplink.mode === 'static' ? cfg.uplink.static_interface : undefined,
    })
    const previous = store.uplink.get()
    const t = now()
    let next: UplinkRecord
    if (!choice) {
      next = {ifname: null, source: null, state: 'none', detectedOn: null, bondMembers: [], reason: cfg.uplink.mode === 'auto' ? 'waiting for an LLDP neighbour advertising EVB bridge mode' : 'no uplink configured', changedAt: t, updatedAt: t}
    } else {
      const link = this.deps.linkState(choice.port)
      const state = link === 'up' ? 'up' : 'down'
      const reason = link === 'absent' ? `interface ${choice.port} does not exist` : link === 'down' ? `interface ${choice.port} is down` : `chosen by ${choice.source}`
      next = {ifname: choice.port, source: choice.source, state, detectedOn: choice.port, bondMembers: [], reason, changedAt: t, updatedAt: t}
    }
    const changed = !previous || previous.ifname !== next.ifname || previous.state !== next.state || previous.source !== next.source
    if (!changed) {
      // Keep the time of the last real change.
      next = {...next, changedAt: previous.changedAt}
    }
    store.transaction(() => {
      store.uplink.put(next)
      if (changed) store.journal.add('uplink', next.ifname, {state: next.state, source: next.source, reason: next.reason, why}, t)
    })
    if (changed) {
      log.info({ifname: next.ifname, state: next.state, source: next.source, reason: next.reason, why}, 'uplink changed')
      this.deps.onTransition({previous, current: next})
    }
    return next
  }
}
