/**
 * VSI Manager IDs (docs/wire-notes.md §Manager ID TLV): 16 octets. Text conversion follows vdptool's
 * `mgrid2=` rules so a value from agent.ini produces the same octets lldpad would send.
 */
import {VdpEncodeError} from './errors.js'

export const MANAGER_ID_LENGTH = 16

/** The default manager (mgrid2=0): 16 zero octets. */
export const NULL_MANAGER_ID: Buffer = Buffer.alloc(MANAGER_ID_LENGTH)

/**
 * vdptool rules: text made only of hex digits and dashes is read as hex pairs, left-aligned and zero-padded
 * ("0" → 00…, "12" → 0x12, not decimal 12; "deadbeef" is hex too). Otherwise an alphanumeric string of at
 * most 15 characters is stored as ASCII, zero-padded ("openstack1").
 */
export function managerIdFromText(text: string): Buffer {
  const out = Buffer.alloc(MANAGER_ID_LENGTH)
  if (/^[0-9a-fA-F-]+$/.test(text)) {
    const digits = text.replaceAll('-', '')
    if (Math.ceil(digits.length / 2) > MANAGER_ID_LENGTH) invalid(text, 'more than 16 octets of hex')
    for (let i = 0, j = 0; i < digits.length; i += 2, j++) out[j] = parseInt(digits.slice(i, i + 2), 16)
    return out
  }
  if (!/^[0-9a-zA-Z]{1,15}$/.test(text)) invalid(text, 'expected hex digits or 1–15 letters and digits')
  out.write(text, 'ascii')
  return out
}

/** Readable form for logs and status: "0"…"255" when only octet 0 is used, the ASCII name, or hex. */
export function managerIdText(id: Uint8Array): string {
  const octets = Buffer.from(id.buffer, id.byteOffset, id.byteLength)
  if (octets.subarray(1).every((b) => b === 0)) return String(octets[0])
  const end = octets.indexOf(0)
  const name = octets.subarray(0, end < 0 ? octets.length : end)
  if (name.every((b) => b >= 0x21 && b <= 0x7e) && octets.subarray(name.length).every((b) => b === 0)) {
    return name.toString('ascii')
  }
  return octets.toString('hex')
}

function invalid(text: string, why: string): never {
  throw new VdpEncodeError('VDP_ENCODE_INVALID', `manager ID "${text}": ${why}`, {text})
}
