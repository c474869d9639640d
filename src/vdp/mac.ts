/**
 * MAC addresses as the VDP engine shows them: lower-case, colon-separated ("52:54:00:aa:bb:01").
 * Frames carry them as 6 raw octets; these helpers convert between the two.
 */
import {VdpAgentError} from '../errors.js'

export const NEAREST_CUSTOMER_BRIDGE_MAC = '01:80:c2:00:00:00'

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

export function isMacText(text: string): boolean {
  return MAC_TEXT.test(text)
}

/** Parse "aa:bb:cc:dd:ee:ff" (any case) into 6 octets. */
export function parseMac(text: string): Buffer {
  if (!isMacText(text)) {
    throw new VdpAgentError('MAC_INVALID', `"${text}" is not a MAC address (expected aa:bb:cc:dd:ee:ff)`, {text})
  }
  return Buffer.from(text.replaceAll(':', ''), 'hex')
}

export function formatMac(octets: Uint8Array, offset = 0): string {
  const parts: string[] = []
  for (let i = 0; i < 6; i++) parts.push(octets[offset + i].toString(16).padStart(2, '0'))
  return parts.join(':')
}

/**
 * lldpad's is_valid_mac rule for VDP filters: not all-zero, not broadcast, and not an IPv4 (01:00:5e) or
 * IPv6 (33:33) multicast prefix. A bridge rejects other addresses with error 5.
 */
export function isUsableUnicastMac(text: string): boolean {
  if (!isMacText(text)) return false
  const m = text.toLowerCase()
  if (m === '00:00:00:00:00:00' || m === 'ff:ff:ff:ff:ff:ff') return false
  return !m.startsWith('01:00:5e') && !m.startsWith('33:33')
}
