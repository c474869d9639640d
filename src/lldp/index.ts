/**
 * LLDP codec (IEEE 802.1AB) with the 802.1, 802.3, LLDP-MED and 802.1Qbg EVB/CDCP organizational TLVs.
 * Pure: bytes in, typed objects out; no I/O, no clock. See docs/lldp.md.
 */
export {decodeLldpFrame, decodeLldpdu} from './decode.js'
export {encodeLldpFrame, encodeLldpdu, encodeTlv} from './encode.js'
export {scanLldpHeader} from './scan.js'
export {buildLldpFrame} from './build.js'
export {decodeEvbTlv, encodeEvbTlv} from './evb.js'
export {formatLldpTree, toJsonValue} from './format.js'
export {LldpDecodeError, LldpEncodeError} from './errors.js'
export {LLDP_RULES} from './rules.js'
export * from './types.js'
