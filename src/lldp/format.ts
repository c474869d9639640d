/**
 * Human rendering of decoded LLDP frames, used by `vdp-agent lldp decode`: a one-line summary per frame and
 * a tcpdump-like tree (-v). Pure: frames in, strings out.
 */
import {networkAddressLength} from './basic.js'
import {encodeTlv} from './encode.js'
import {IEEE8021_SUBTYPES} from './ieee8021.js'
import {IEEE8023_SUBTYPES} from './ieee8023.js'
import {MED_SUBTYPES} from './med.js'
import {
  civicCaTypeName,
  mauTypeName,
  MDI_POWER_CLASS_NAMES,
  medApplicationTypeName,
  medDeviceTypeName,
  ouiName,
  PMD_CAPABILITY_BITS,
  tlvTypeName,
} from './names.js'
import {displayText, hex} from './octets.js'
import type {EvbTlv, LldpFrame, LldpId, LldpTlv, Lldpdu, NetworkAddress} from './types.js'

function quote(text: string): string {
  return JSON.stringify(displayText(text))
}

/** An address that does not fit its family (decodeNetworkAddress kept it as hex) is shown as octets, never as one. */
function formatAddress(a: NetworkAddress): string {
  const expected = networkAddressLength(a.family)
  const octets = /^[0-9a-f]*$/.test(a.address) ? a.address.length / 2 : undefined
  if (octets !== undefined && (octets === 0 || (expected !== undefined && octets !== expected))) {
    return `${a.familyName} (${octets} octets, expected ${expected ?? 'at least 1'}) 0x${a.address}`
  }
  return `${a.familyName} ${a.address}`
}

function formatId(id: LldpId): string {
  const value =
    id.encoding === 'address'
      ? formatAddress(id.value)
      : id.encoding === 'text'
        ? quote(id.value)
        : id.encoding === 'hex'
          ? `0x${id.value}`
          : id.value
  return `${id.subtypeName} ${value}`
}

/** 10 µs × 2^exponent, the unit of every EVB/ECP/VDP timer (docs/wire-notes.md §EVB timers). */
function formatTimerExponent(exponent: number): string {
  const us = 10 * 2 ** exponent
  if (us < 1000) return `${us} µs`
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)} ms`
  return `${(us / 1_000_000).toFixed(2)} s`
}

const RRSTAT_NAMES = ['not enabled', 'enabled', 'reserved', 'unknown']

function formatEvbShort(evb: EvbTlv): string {
  const rr =
    evb.mode === 'station'
      ? `rrreq ${Number(evb.rrreq)} rrstat ${evb.rrstat}`
      : `rrcap ${Number(evb.rrcap)} rrctr ${Number(evb.rrctr)}`
  return `evb ${evb.mode} ${rr} R ${evb.retries} RTE ${evb.rte} RWD ${evb.rwd} RKA ${evb.rka}`
}

function evbLines(e: EvbTlv): string[] {
  const r = e.reserved
  return [
    `bridge status: BGID ${Number(e.bgid)}, RRCAP ${Number(e.rrcap)}, RRCTR ${Number(e.rrctr)}${r?.bridgeStatus ? `, reserved 0x${r.bridgeStatus.toString(16)}` : ''}`,
    `station status: SGID ${Number(e.sgid)}, RRREQ ${Number(e.rrreq)}, RRSTAT ${e.rrstat} (${RRSTAT_NAMES[e.rrstat]})${r?.stationStatus ? `, reserved 0x${r.stationStatus.toString(16)}` : ''}`,
    `mode ${e.mode}, R ${e.retries}, RTE ${e.rte} (${formatTimerExponent(e.rte)})`,
    `RWD ${e.rwd} (${formatTimerExponent(e.rwd)})${e.rolRwd ? ' from peer' : ''}, RKA ${e.rka} (${formatTimerExponent(e.rka)})${e.rolRka ? ' from peer' : ''}${r?.rka ? `, reserved 0x${r.rka.toString(16)}` : ''}`,
  ]
}

function bits(mask: number, names: ReadonlyArray<readonly [number, string]>): string {
  return `[${names
    .filter(([b]) => (mask & b) !== 0)
    .map(([, n]) => n)
    .join(', ')}]`
}

function hexDump(data: Uint8Array): string[] {
  const lines: string[] = []
  for (let i = 0; i < data.length; i += 16)
    lines.push(
      `0x${i.toString(16).padStart(4, '0')}: ${hex(data, i, Math.min(i + 16, data.length)).replace(/(..)(?!$)/g, '$1 ')}`,
    )
  return lines
}

const row = (values: readonly number[]): string => values.join(' ')
const priorities = (mask: number): string =>
  `[${Array.from({length: 8}, (_, p) => p)
    .filter((p) => (mask >> p) & 1)
    .join(', ')}]`

function orgTitle(tlv: Extract<LldpTlv, {type: 127}>): string {
  const table =
    tlv.oui === '00-80-c2'
      ? IEEE8021_SUBTYPES
      : tlv.oui === '00-12-0f'
        ? IEEE8023_SUBTYPES
        : tlv.oui === '00-12-bb'
          ? MED_SUBTYPES
          : tlv.oui === '00-00-5e' && tlv.subtype === 1
            ? {1: 'MUD URL'}
            : {}
  const name = (table as Record<number, string>)[tlv.subtype] ?? `subtype ${tlv.subtype}`
  return `${ouiName(tlv.oui)} ${name} (127/${tlv.oui}/${tlv.subtype})`
}

/** Title and detail lines of one TLV. */
function describeTlv(tlv: LldpTlv): {title: string; value?: string; lines: string[]} {
  switch (tlv.kind) {
    case 'end':
      return {title: 'End (0)', lines: []}
    case 'chassisId':
    case 'portId':
      return {title: `${tlvTypeName(tlv.type)} (${tlv.type})`, value: formatId(tlv.id), lines: []}
    case 'ttl':
      return {
        title: 'Time to Live (3)',
        value: `${tlv.seconds} s${tlv.seconds === 0 ? ' (shutdown)' : ''}`,
        lines: tlv.extra ? [`extra octets ${hex(tlv.extra)}`] : [],
      }
    case 'portDescription':
    case 'systemName':
    case 'systemDescription':
      return {
        title: `${tlvTypeName(tlv.type)} (${tlv.type})`,
        value: quote(tlv.value),
        lines: tlv.encoding === 'latin1' ? ['(not UTF-8; shown as Latin-1)'] : [],
      }
    case 'systemCapabilities':
      return {
        title: 'System Capabilities (7)',
        lines: [
          `supported ${JSON.stringify(tlv.supportedNames)} (0x${tlv.supported.toString(16).padStart(4, '0')})`,
          `enabled ${JSON.stringify(tlv.enabledNames)} (0x${tlv.enabled.toString(16).padStart(4, '0')})`,
        ],
      }
    case 'managementAddress':
      return {
        title: 'Management Address (8)',
        value: formatAddress(tlv.address),
        lines: [
          `interface ${tlv.interfaceSubtypeName} ${tlv.interfaceNumber}`,
          ...(tlv.oid ? [`OID ${tlv.oidEncoding === 'hex' ? `0x${tlv.oid}` : tlv.oid}`] : []),
        ],
      }
    case 'unrecognized':
      return {title: `Reserved TLV type ${tlv.type}`, lines: hexDump(tlv.data)}
    case 'malformed':
      return {
        title: `${tlvTypeName(tlv.type)} (${tlv.type})`,
        value: `MALFORMED [${tlv.rule}] ${tlv.reason}`,
        lines: hexDump(tlv.data),
      }
    case 'orgSpecific':
      return {title: orgTitle(tlv), lines: hexDump(tlv.data)}
    case 'portVlanId':
      return {title: orgTitle(tlv), lines: [`PVID ${tlv.pvid}`]}
    case 'portProtocolVlanId':
      return {
        title: orgTitle(tlv),
        lines: [
          `PPVID ${tlv.ppvid}, ${tlv.supported ? 'supported' : 'not supported'}, ${tlv.enabled ? 'enabled' : 'not enabled'} (flags 0x${tlv.flags.toString(16).padStart(2, '0')})`,
        ],
      }
    case 'vlanName':
      return {title: orgTitle(tlv), lines: [`VID ${tlv.vid}, name ${quote(tlv.name)}`]}
    case 'protocolIdentity':
      return {title: orgTitle(tlv), lines: [`identity ${hex(tlv.identity) || '(empty)'}`]}
    case 'vidUsageDigest':
      return {title: orgTitle(tlv), lines: [`digest 0x${tlv.digest.toString(16).padStart(8, '0')}`]}
    case 'managementVid':
      return {title: orgTitle(tlv), lines: [`management VID ${tlv.vid}`]}
    case 'linkAggregation':
    case 'dot3LinkAggregation':
      return {
        title: orgTitle(tlv),
        lines: [
          `${tlv.capable ? 'capable' : 'not capable'}, ${tlv.enabled ? 'enabled' : 'not enabled'}, port type ${tlv.portType}, aggregated port ${tlv.portId} (status 0x${tlv.status.toString(16).padStart(2, '0')})`,
        ],
      }
    case 'congestionNotification':
      return {
        title: orgTitle(tlv),
        lines: [
          `CNPV priorities ${priorities(tlv.cnpvIndicators)}`,
          `ready priorities ${priorities(tlv.readyIndicators)}`,
        ],
      }
    case 'etsConfiguration':
    case 'etsRecommendation':
      return {
        title: orgTitle(tlv),
        lines: [
          tlv.kind === 'etsConfiguration'
            ? `willing ${Number(tlv.willing)}, CBS ${Number(tlv.cbs)}, max TCs ${tlv.maxTcs}${tlv.reserved ? `, reserved ${tlv.reserved}` : ''}`
            : `reserved ${tlv.reserved}`,
          `priority → TC     ${row(tlv.priorityAssignment)}`,
          `TC bandwidth %    ${row(tlv.tcBandwidth)}`,
          `TC algorithm      ${row(tlv.tsaAssignment)}`,
        ],
      }
    case 'pfcConfiguration':
      return {
        title: orgTitle(tlv),
        lines: [
          `willing ${Number(tlv.willing)}, MBC ${Number(tlv.mbc)}, capability ${tlv.pfcCapability}${tlv.reserved ? `, reserved ${tlv.reserved}` : ''}`,
          `PFC enabled on priorities ${priorities(tlv.pfcEnable)}`,
        ],
      }
    case 'applicationPriority':
      return {
        title: orgTitle(tlv),
        lines: tlv.entries.map(
          (e) =>
            `priority ${e.priority}, selector ${e.selector}, protocol ${e.protocolId}${e.reserved ? `, reserved ${e.reserved}` : ''}`,
        ),
      }
    case 'evb':
      return {title: orgTitle(tlv), lines: evbLines(tlv.evb)}
    case 'cdcp': {
      const c = tlv.cdcp
      return {
        title: orgTitle(tlv),
        lines: [
          `role ${c.role}, SComp ${Number(c.scomp)}, channel capacity ${c.channelCapacity}`,
          ...c.channels.map((ch) => `SCID ${ch.scid} → SVID ${ch.svid}`),
        ],
      }
    }
    case 'macPhy':
      return {
        title: orgTitle(tlv),
        lines: [
          `auto-negotiation ${tlv.autonegSupported ? 'supported' : 'not supported'}, ${tlv.autonegEnabled ? 'enabled' : 'not enabled'}`,
          `advertised ${bits(tlv.pmdCapability, PMD_CAPABILITY_BITS)} (0x${tlv.pmdCapability.toString(16).padStart(4, '0')})`,
          `MAU type ${mauTypeName(tlv.mauType)} (${tlv.mauType})`,
        ],
      }
    case 'powerViaMdi': {
      const lines = [
        `${tlv.portClass.toUpperCase()}, MDI power ${tlv.mdiPowerSupported ? 'supported' : 'not supported'}, ${tlv.mdiPowerEnabled ? 'enabled' : 'not enabled'}${tlv.pairControlAbility ? ', pairs controllable' : ''}`,
        `power pair ${tlv.psePowerPair === 1 ? 'signal' : tlv.psePowerPair === 2 ? 'spare' : tlv.psePowerPair}, ${MDI_POWER_CLASS_NAMES[tlv.powerClass] ?? `class value ${tlv.powerClass}`}`,
      ]
      if (tlv.dot3at) {
        const a = tlv.dot3at
        lines.push(
          `802.3at: type ${a.powerType}, source ${a.powerSource}, priority ${a.powerPriority}, requested ${a.pdRequestedPower / 10} W, allocated ${a.pseAllocatedPower / 10} W`,
        )
      }
      if (tlv.dot3bt) {
        const b = tlv.dot3bt
        lines.push(
          `802.3bt: requested A/B ${b.pdRequestedPowerA / 10}/${b.pdRequestedPowerB / 10} W, allocated A/B ${b.pseAllocatedPowerA / 10}/${b.pseAllocatedPowerB / 10} W, max available ${b.pseMaxAvailablePower / 10} W`,
          `802.3bt: status 0x${b.powerStatus.toString(16).padStart(4, '0')} (PSE ${b.psePoweringStatus}, PD ${b.pdPoweredStatus}, pairs ${b.psePowerPairsExt}, class A/B ${b.dualSignatureClassA}/${b.dualSignatureClassB}, class ext ${b.powerClassExt}), type ext ${b.powerTypeExt}, PD load ${Number(b.pdLoad)}, autoclass 0x${b.autoclass.toString(16)}, power down 0x${b.powerDown.toString(16)}`,
        )
      }
      return {title: orgTitle(tlv), lines}
    }
    case 'maxFrameSize':
      return {title: orgTitle(tlv), lines: [`maximum frame size ${tlv.maxFrameSize}`]}
    case 'medCapabilities':
      return {
        title: orgTitle(tlv),
        lines: [
          `capabilities ${JSON.stringify(tlv.capabilityNames)} (0x${tlv.capabilities.toString(16).padStart(4, '0')})`,
          `device type ${medDeviceTypeName(tlv.deviceType)} (${tlv.deviceType})`,
        ],
      }
    case 'medNetworkPolicy':
      return {
        title: orgTitle(tlv),
        lines: [
          `${medApplicationTypeName(tlv.applicationType)}: ${tlv.unknownPolicy ? 'policy unknown' : 'policy defined'}, ${tlv.tagged ? 'tagged' : 'untagged'}, VLAN ${tlv.vlanId}, L2 priority ${tlv.l2Priority}, DSCP ${tlv.dscp}`,
        ],
      }
    case 'medLocation': {
      const loc = tlv.location
      if (loc.format === 'coordinate') {
        return {
          title: orgTitle(tlv),
          lines: [
            `coordinate LCI: latitude ${loc.latitude}, longitude ${loc.longitude}, altitude ${loc.altitude} (type ${loc.altitudeType}), datum ${loc.datum}`,
          ],
        }
      }
      if (loc.format === 'elin') return {title: orgTitle(tlv), lines: [`ELIN ${quote(loc.elin)}`]}
      return {
        title: orgTitle(tlv),
        lines: [
          `civic address, what ${loc.what}, country ${quote(loc.countryCode)}`,
          ...loc.elements.map((e) => `${civicCaTypeName(e.caType)} (${e.caType}): ${quote(e.value)}`),
        ],
      }
    }
    case 'medExtendedPower':
      return {
        title: orgTitle(tlv),
        lines: [
          `power type ${tlv.powerType}, source ${tlv.powerSource}, priority ${tlv.powerPriority}, ${tlv.powerValue / 10} W`,
        ],
      }
    case 'medInventory':
      return {title: orgTitle(tlv), lines: [`${tlv.field} ${quote(tlv.value)}`]}
    case 'mudUrl':
      return {title: orgTitle(tlv), lines: [`MUD URL ${quote(tlv.url)}`]}
  }
}

/** One line: addresses, MSAP, TTL, name, capabilities, EVB, TLV count, warnings. */
export function formatLldpSummary(frame: LldpFrame): string {
  const parts = [`LLDP ${frame.src} > ${frame.dst}`]
  for (const tag of frame.vlanTags) parts.push(`vlan ${tag.vid}`)
  parts.push(
    `chassis ${formatId(frame.chassisId)}`,
    `port ${formatId(frame.portId)}`,
    `ttl ${frame.ttl}${frame.isShutdown ? ' (shutdown)' : ''}`,
  )
  if (frame.systemName !== undefined) parts.push(`name ${quote(frame.systemName)}`)
  if (frame.capabilities) parts.push(`caps ${frame.capabilities.enabledNames.join('+') || 'none'}`)
  if (frame.evb) parts.push(formatEvbShort(frame.evb))
  parts.push(`${frame.tlvs.length} TLVs`)
  if (frame.warnings.length > 0)
    parts.push(`${frame.discardRequired ? 'DISCARD: ' : ''}${frame.warnings.map((w) => w.rule).join(' ')}`)
  return parts.join(', ')
}

/** The tcpdump -v style tree: one line per TLV with its length, details indented under it. */
export function formatLldpTree(pdu: Pick<Lldpdu, 'tlvs' | 'warnings'> & {trailer?: Uint8Array}, indent = '  '): string {
  const lines: string[] = []
  for (const tlv of pdu.tlvs) {
    const {title, value, lines: details} = describeTlv(tlv)
    const length = tlv.kind === 'malformed' ? tlv.declaredLength : encodeTlv(tlv).length - 2
    lines.push(`${indent}${title}, length ${length}${value === undefined ? '' : `: ${value}`}`)
    for (const d of details) lines.push(`${indent}  ${d}`)
  }
  const trailer = pdu.trailer
  if (trailer && trailer.length > 0) {
    const shown = trailer.some((b) => b !== 0)
      ? `: ${hex(trailer, 0, Math.min(trailer.length, 32))}${trailer.length > 32 ? '…' : ''}`
      : ' (zero padding)'
    lines.push(`${indent}trailer ${trailer.length} octets${shown}`)
  }
  for (const w of pdu.warnings)
    lines.push(`${indent}${w.action === 'note' ? 'note' : 'warning'} [${w.rule}] at offset ${w.offset}: ${w.message}`)
  return lines.join('\n')
}

/** A JSON-ready copy of a decoded frame or TLV: octet fields become hex strings, bigints decimal strings. */
export function toJsonValue(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = key === '' ? v : this[key]
      if (raw instanceof Uint8Array) return hex(raw)
      if (typeof raw === 'bigint') return raw.toString()
      return v
    }),
  )
}
