/**
 * Cisco organisational TLVs inside a VDPDU (docs/wire-notes.md §Organisational TLVs in a VDPDU), OUI 00-00-0C,
 * sent after the VSI TLV they describe. lldpad sends them as two separate TLVs "to be compatible with Cisco switch
 * implementation":
 *
 *   0xF1 VM name: VSIID format(1) VSIID(16) VM-ID format(1)=5 VM UUID(16) name(n, ASCII, no NUL)
 *   0xF2 L3 address: VSIID format(1) VSIID(16) AFI(2)=1 IPv4(4)
 *
 * The VM UUID travels only inside the name TLV. A Cisco TLV this module cannot read (other subtypes, IPv6,
 * short bodies) stays a raw org TLV, so nothing is lost on re-encode.
 */
import {isIPv4} from 'node:net'
import {VdpEncodeError} from './errors.js'
import {formatUuid, parseUuid, readVsiid, VSIID_LENGTH, vsiidFormatCode, writeVsiid, type Vsiid} from './vsiid.js'

export const CISCO_OUI = '00-00-0c'
const CISCO_SUBTYPE_VM_NAME = 0xf1
const CISCO_SUBTYPE_L3_ADDRESS = 0xf2
/** VM-ID format octet: UUID, the only one lldpad writes. */
const CISCO_VM_ID_UUID = 5
/** lldpad's limit for vm_name; longer names are refused at request time. */
export const CISCO_MAX_VM_NAME = 100
const AFI_IPV4 = 1

interface CiscoVmNameTlv {
  readonly kind: 'cisco-vm-name'
  readonly vsiid: Vsiid
  /** 5 (UUID) from lldpad; kept as read. */
  readonly vmIdFormat: number
  /** Nova instance ID; all zeros when not given. */
  readonly vmUuid: string
  /** Nova instance name, ASCII. */
  readonly vmName: string
}

interface CiscoIpv4AddressTlv {
  readonly kind: 'cisco-ipv4-address'
  readonly vsiid: Vsiid
  readonly ipv4: string
}

export type CiscoTlv = CiscoVmNameTlv | CiscoIpv4AddressTlv

/** The Cisco TLVs networking-cisco sends for a port (vdptool oui=cisco,vm_name=…,vm_uuid=…,ipv4_addr=…). */
export function ciscoTlvs(vsiid: Vsiid, vm: {name?: string; uuid?: string; ipv4?: string}): CiscoTlv[] {
  const out: CiscoTlv[] = []
  // As in lldpad: without a name there is no name TLV, and so no VM UUID either.
  if (vm.name) {
    out.push({
      kind: 'cisco-vm-name',
      vsiid,
      vmIdFormat: CISCO_VM_ID_UUID,
      vmUuid: (vm.uuid ?? '00000000-0000-0000-0000-000000000000').toLowerCase(),
      vmName: vm.name,
    })
  }
  if (vm.ipv4) out.push({kind: 'cisco-ipv4-address', vsiid, ipv4: vm.ipv4})
  return out
}

/** The org TLV body after the 3-octet OUI (subtype onward). */
export function encodeCiscoBody(tlv: CiscoTlv): Buffer {
  if (tlv.kind === 'cisco-vm-name') {
    const name = Buffer.from(tlv.vmName, 'latin1')
    if (name.toString('latin1') !== tlv.vmName) invalid(`VM name "${tlv.vmName}" is not 8-bit text`)
    const body = Buffer.alloc(1 + 1 + VSIID_LENGTH + 1 + 16 + name.length)
    body[0] = CISCO_SUBTYPE_VM_NAME
    body[1] = vsiidFormatCode(tlv.vsiid)
    writeVsiid(tlv.vsiid, body, 2)
    body[18] = tlv.vmIdFormat
    parseUuid(tlv.vmUuid).copy(body, 19)
    name.copy(body, 35)
    return body
  }
  if (!isIPv4(tlv.ipv4)) invalid(`"${tlv.ipv4}" is not an IPv4 address`)
  const body = Buffer.alloc(1 + 1 + VSIID_LENGTH + 2 + 4)
  body[0] = CISCO_SUBTYPE_L3_ADDRESS
  body[1] = vsiidFormatCode(tlv.vsiid)
  writeVsiid(tlv.vsiid, body, 2)
  body.writeUInt16BE(AFI_IPV4, 18)
  tlv.ipv4.split('.').forEach((part, i) => (body[20 + i] = Number(part)))
  return body
}

/** Read a Cisco body (after the OUI); undefined when it is not one this module types. */
export function decodeCiscoBody(body: Buffer): CiscoTlv | undefined {
  try {
    if (body[0] === CISCO_SUBTYPE_VM_NAME && body.length >= 35) {
      return {
        kind: 'cisco-vm-name',
        vsiid: readVsiid(body[1], body, 2),
        vmIdFormat: body[18],
        vmUuid: formatUuid(body.subarray(19, 35)),
        vmName: body.subarray(35).toString('latin1'),
      }
    }
    if (body[0] === CISCO_SUBTYPE_L3_ADDRESS && body.length === 24 && body.readUInt16BE(18) === AFI_IPV4) {
      return {
        kind: 'cisco-ipv4-address',
        vsiid: readVsiid(body[1], body, 2),
        ipv4: `${body[20]}.${body[21]}.${body[22]}.${body[23]}`,
      }
    }
  } catch {
    // An unreadable VSIID inside a Cisco TLV: keep the TLV raw rather than reject the VDPDU.
  }
  return undefined
}

function invalid(message: string): never {
  throw new VdpEncodeError('VDP_ENCODE_INVALID', message)
}
