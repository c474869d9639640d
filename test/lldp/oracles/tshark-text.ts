/**
 * Parses `tshark -V` output into frames and the TLV subtrees of the "Link Layer Discovery Protocol" tree,
 * so tests can compare our decode with Wireshark's. Each TLV keeps its title line and its fields as
 * (name, value) pairs; bit-field lines ("..1. = Name: value") lose their bit pattern.
 */

interface TsharkField {
  name: string
  value: string
  depth: number
}

export interface TsharkTlv {
  title: string
  type: number
  length: number
  fields: TsharkField[]
}

export interface TsharkFrame {
  number: number
  /** False when the frame had no LLDP tree. */
  lldp: boolean
  tlvs: TsharkTlv[]
  /** Lines of the Ethernet tree, e.g. 'Trailer: 000000'. */
  ethernet: TsharkField[]
  malformed: boolean
}

const FRAME_RE = /^Frame (\d+):/
const BITS_RE = /^[01.]+(?: [01.]+)* = /

function toField(line: string, depth: number): TsharkField {
  const text = line.trim().replace(BITS_RE, '')
  const i = text.indexOf(': ')
  return i < 0 ? {name: text, value: '', depth} : {name: text.slice(0, i), value: text.slice(i + 2), depth}
}

export function parseTsharkText(text: string): Map<number, TsharkFrame> {
  const frames = new Map<number, TsharkFrame>()
  let frame: TsharkFrame | undefined
  let section: 'other' | 'ethernet' | 'lldp' = 'other'
  let tlv: TsharkTlv | undefined
  for (const line of text.split('\n')) {
    const f = FRAME_RE.exec(line)
    if (f) {
      frame = {number: Number(f[1]), lldp: false, tlvs: [], ethernet: [], malformed: false}
      frames.set(frame.number, frame)
      section = 'other'
      tlv = undefined
      continue
    }
    if (!frame) continue
    if (/^\S/.test(line)) {
      tlv = undefined
      if (line.startsWith('Ethernet II')) section = 'ethernet'
      else if (line.startsWith('Link Layer Discovery Protocol')) {
        section = 'lldp'
        frame.lldp = true
      } else {
        if (line.startsWith('[Malformed Packet')) frame.malformed = true
        section = 'other'
      }
      continue
    }
    const depth = line.length - line.trimStart().length
    if (section === 'ethernet') {
      frame.ethernet.push(toField(line, depth))
      continue
    }
    if (section !== 'lldp' || line.trim() === '') continue
    if (depth < 8) {
      tlv = {title: line.trim(), type: -1, length: -1, fields: []}
      frame.tlvs.push(tlv)
      continue
    }
    if (!tlv) continue
    const field = toField(line, depth)
    if (field.name === 'TLV Type') tlv.type = Number(/\((\d+)\)$/.exec(field.value)?.[1] ?? -1)
    else if (field.name === 'TLV Length') tlv.length = Number(field.value)
    else tlv.fields.push(field)
  }
  return frames
}

/** Values of every field called `name` (in order). */
export function fieldValues(tlv: TsharkTlv, name: string): string[] {
  return tlv.fields.filter((f) => f.name === name).map((f) => f.value)
}

export function fieldValue(tlv: TsharkTlv, name: string): string | undefined {
  return tlv.fields.find((f) => f.name === name)?.value
}
