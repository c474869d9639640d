/**
 * The validation rules the LLDP decoder applies, named so that errors and warnings can say which one fired.
 *
 * IEEE 802.1AB-2009 §9.2.7.7 splits receive errors into two kinds: those that make the receiver discard the whole
 * LLDPDU (bad mandatory TLVs, a TLV running past the end of the frame) and those that discard only the offending
 * TLV (a known optional TLV with an impossible length, a malformed organizationally specific TLV). The standard's
 * text was not at hand (docs/wire-notes.md §LLDP receive validation says which parts are unverified); the actions
 * below follow that section and lldpad's receiver. 'note' rules are not violations: they describe something worth
 * knowing (a missing End TLV, optional since 802.1AB-2016) and never fail a decode.
 * 'warning' rules are values that contradict their own fields (an address length that does not fit its
 * family): a lenient decode keeps the TLV with its octets shown as such, a strict decode refuses the frame.
 */
export type LldpRuleAction = 'discard-lldpdu' | 'discard-tlv' | 'warning' | 'note'

export interface LldpRuleInfo {
  readonly action: LldpRuleAction
  readonly description: string
}

export const LLDP_RULES = {
  'not-lldp': {
    action: 'discard-lldpdu',
    description: 'not an LLDP frame: shorter than an Ethernet header, or EtherType is not 0x88CC',
  },
  'mandatory-tlv-order': {
    action: 'discard-lldpdu',
    description: 'the first three TLVs must be Chassis ID, Port ID and Time To Live, in that order',
  },
  'mandatory-tlv-missing': {
    action: 'discard-lldpdu',
    description: 'the LLDPDU has no usable Chassis ID, Port ID or Time To Live TLV',
  },
  'chassis-id-length': {
    action: 'discard-lldpdu',
    description: 'Chassis ID information string length must be 2..256 (subtype plus 1..255 octets)',
  },
  'port-id-length': {
    action: 'discard-lldpdu',
    description: 'Port ID information string length must be 2..256 (subtype plus 1..255 octets)',
  },
  'ttl-length': {action: 'discard-lldpdu', description: 'Time To Live information string length must be 2'},
  'tlv-overrun': {
    action: 'discard-lldpdu',
    description: 'a TLV header or information string runs past the end of the LLDPDU',
  },
  'duplicate-mandatory-tlv': {
    action: 'discard-lldpdu',
    description: 'Chassis ID, Port ID and Time To Live may each appear only once',
  },
  'duplicate-tlv': {
    action: 'discard-tlv',
    description:
      'Port Description, System Name, System Description and System Capabilities may appear only once; later copies are ignored',
  },
  'tlv-length': {
    action: 'discard-tlv',
    description: 'a known optional TLV has an information string length outside its allowed range',
  },
  'org-tlv-length': {
    action: 'discard-tlv',
    description: 'an organizationally specific TLV needs at least 4 octets (OUI and subtype)',
  },
  'org-tlv-malformed': {
    action: 'discard-tlv',
    description: 'an organizationally specific TLV of a known OUI and subtype does not match its defined layout',
  },
  'end-tlv-length': {action: 'note', description: 'the End Of LLDPDU TLV should have length 0'},
  'missing-end-tlv': {
    action: 'note',
    description: 'no End Of LLDPDU TLV (mandatory in 802.1AB-2005/2009, optional since 802.1AB-2016)',
  },
  'reserved-id-subtype': {
    action: 'note',
    description: 'Chassis ID or Port ID subtype 0 or 8..255 is reserved; the value is kept as opaque octets',
  },
  'id-value-format': {
    action: 'warning',
    description:
      'a Chassis ID or Port ID value does not fit its subtype (e.g. a MAC address that is not 6 octets); kept as octets',
  },
  'network-address-length': {
    action: 'warning',
    description:
      'a network address (Chassis ID, Port ID or Management Address) whose length does not fit its address family (IPv4 4, IPv6 16, IEEE 802 6 octets, at least 1); kept as octets',
  },
  'capabilities-not-supported': {
    action: 'warning',
    description:
      'System Capabilities: an enabled capability that is not among the supported ones (802.1AB-2009 §8.5.8.2)',
  },
  'internal-error': {
    action: 'discard-lldpdu',
    description: 'the decoder hit an unexpected condition (a bug); the frame is treated as undecodable',
  },
} as const satisfies Record<string, LldpRuleInfo>

export type LldpRule = keyof typeof LLDP_RULES

export function ruleAction(rule: LldpRule): LldpRuleAction {
  return LLDP_RULES[rule].action
}
