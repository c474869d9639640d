/**
 * LLDP codec (IEEE 802.1AB) with the 802.1, 802.3, LLDP-MED and 802.1Qbg EVB/CDCP organizational TLVs.
 * Pure: bytes in, typed objects out; no I/O, no clock. See docs/lldp.md.
 */
export {decodeLldpFrame, decodeLldpdu} from './decode.js'
export {encodeLldpFrame, encodeLldpdu, encodeTlv, type EncodableLldpFrame} from './encode.js'
export {scanLldpHeader, LldpHeaderScan} from './scan.js'
export {buildLldpFrame, type BuildLldpFrameOptions, type LldpIdInput, type ManagementAddressInput} from './build.js'
export {decodeEvbTlv, encodeEvbTlv, EVB_INFO_LENGTH} from './evb.js'
export {formatLldpSummary, formatLldpTree, describeTlv, formatId, formatTimerExponent, toJsonValue} from './format.js'
export {LldpDecodeError, LldpEncodeError} from './errors.js'
export {LLDP_RULES, type LldpRule, type LldpRuleAction} from './rules.js'
export * from './types.js'
