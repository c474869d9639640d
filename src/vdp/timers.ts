/**
 * EVB timer arithmetic (docs/wire-notes.md §EVB timers, §VDP timers). Every EVB timer is 10 µs × 2^exponent;
 * results are in milliseconds (fractions kept: T(8) = 2.56 ms).
 *
 * Note: lldpad's ECP comment says "milliseconds" but computes microseconds; the captures confirm
 * microseconds (RTE 14 → retransmissions 163.84 ms apart).
 */
import type {EvbValues} from '../model/evb.js'
import {EvbParamError} from './errors.js'

/** lldpad's defaults before any negotiation (ecpretries 3, ecprte 8, vdprwd 20, vdprka 20). */
export const LLDPAD_DEFAULT_EVB: EvbValues = Object.freeze({retries: 3, rte: 8, rwd: 20, rka: 20})

/** Cisco leaf defaults (DFA guide p.33); R is not given there, lldpad's 3 is assumed. */
export const CISCO_LEAF_DEFAULT_EVB: EvbValues = Object.freeze({retries: 3, rte: 14, rwd: 25, rka: 27})

/** T(exp) = 10 µs × 2^exp, in milliseconds. */
export function evbTime(exponent: number): number {
  checkExponent('exponent', exponent)
  return 0.01 * 2 ** exponent
}

/** ECP ackTimer: how long a transmitter waits for an ACK before retransmitting. */
export function ackTimer(rte: number): number {
  return evbTime(rte)
}

/**
 * respWaitDelay: how long the station waits for the VDP response to a request (41.5.5.9 as lldpad
 * implements it): 1.5 × [(1 + 2R)·T(RTE) + T(RWD)].
 */
export function respWaitDelay(retries: number, rte: number, rwd: number): number {
  checkRetries(retries)
  return 1.5 * ((1 + 2 * retries) * evbTime(rte) + evbTime(rwd))
}

/** reinitKeepAlive: the station's keep-alive period, T(RKA). */
export function reinitKeepAlive(rka: number): number {
  return evbTime(rka)
}

/** resourceWaitDelay: the bridge's time to decide, T(RWD). */
function resourceWaitDelay(rwd: number): number {
  return evbTime(rwd)
}

/** toutKeepAlive: the bridge drops a VSI not refreshed within 1.5 × [(1 + 2R)·T(RTE) + T(RKA)]. */
export function toutKeepAlive(retries: number, rte: number, rka: number): number {
  checkRetries(retries)
  return 1.5 * ((1 + 2 * retries) * evbTime(rte) + evbTime(rka))
}

/** Every derived timer for one set of negotiated values, for status output. */
export interface EvbTimers {
  readonly ackTimerMs: number
  readonly respWaitDelayMs: number
  readonly reinitKeepAliveMs: number
  readonly resourceWaitDelayMs: number
  readonly toutKeepAliveMs: number
}

export function evbTimers(p: EvbValues): EvbTimers {
  validateEvbParams(p)
  return {
    ackTimerMs: ackTimer(p.rte),
    respWaitDelayMs: respWaitDelay(p.retries, p.rte, p.rwd),
    reinitKeepAliveMs: reinitKeepAlive(p.rka),
    resourceWaitDelayMs: resourceWaitDelay(p.rwd),
    toutKeepAliveMs: toutKeepAlive(p.retries, p.rte, p.rka),
  }
}

export function validateEvbParams(p: EvbValues): void {
  checkRetries(p.retries)
  checkExponent('RTE', p.rte)
  checkExponent('RWD', p.rwd)
  checkExponent('RKA', p.rka)
}

function checkExponent(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 31) {
    throw new EvbParamError('EVB_PARAM_RANGE', `${name} must be an integer exponent 0–31, got ${value}`, {
      name,
      value,
    })
  }
}

function checkRetries(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 7) {
    throw new EvbParamError('EVB_PARAM_RANGE', `R (ECP retries) must be an integer 0–7, got ${value}`, {
      name: 'R',
      value,
    })
  }
}
