import type {UplinkSource} from '../store/uplink-repo.js'

export interface UplinkChoiceInputs {
  /** The override file's interface, undefined when there is no (valid) file. */
  override?: string
  /** [uplink] static_interface when mode = static. */
  configStatic?: string
  /** The port whose LLDP neighbour advertises EVB bridge mode (auto mode), if any. */
  lldpCandidate?: string
}

export interface UplinkChoice {
  port: string
  source: UplinkSource
}

/** Precedence: the override file, then the config's static interface, then LLDP discovery. */
export function chooseUplinkPort(inputs: UplinkChoiceInputs): UplinkChoice | undefined {
  if (inputs.override) return {port: inputs.override, source: 'override'}
  if (inputs.configStatic) return {port: inputs.configStatic, source: 'config'}
  if (inputs.lldpCandidate) return {port: inputs.lldpCandidate, source: 'lldp'}
  return undefined
}
