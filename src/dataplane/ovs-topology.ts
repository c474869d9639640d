/**
 * Questions about Neutron's Open vSwitch layout, answered from the OVSDB view (no I/O): an interface's
 * OpenFlow port, the patch pair between the integration and external bridges, a VM port's local VLAN.
 */
import type {OvsdbMonitor} from './ovsdb-monitor.js'

export type OvsView = Pick<OvsdbMonitor, 'bridgeByName' | 'interfacesOf' | 'portOfIfaceId' | 'bridgeOfPort'>

export interface PatchPair {
  /** OpenFlow port of the patch interface on the integration bridge (int-br-ethd), and its name. */
  integration: number
  integrationName: string
  /** Its peer on the external bridge (phy-br-ethd). */
  external: number
  externalName: string
}

/** The OpenFlow port of `ifname` on `bridge`, once vswitchd has attached it (ofport > 0). */
export function ofportOf(view: OvsView, bridge: string, ifname: string): number | undefined {
  const b = view.bridgeByName(bridge)
  if (!b) return undefined
  const iface = view.interfacesOf(b).find((i) => i.name === ifname)
  return iface?.ofport && iface.ofport > 0 ? iface.ofport : undefined
}

/**
 * The patch interface of the external bridge whose `options:peer` is a patch interface of the integration
 * bridge pointing back (dfa-agent §4.2 `find_interconnect_ports`), both attached.
 */
export function findPatchPair(view: OvsView, integrationBridge: string, externalBridge: string): PatchPair | undefined {
  const ext = view.bridgeByName(externalBridge)
  const int = view.bridgeByName(integrationBridge)
  if (!ext || !int) return undefined
  const intIfaces = view.interfacesOf(int)
  for (const e of view.interfacesOf(ext)) {
    if (e.type !== 'patch') continue
    const peer = intIfaces.find((i) => i.type === 'patch' && i.name === e.options.peer && i.options.peer === e.name)
    if (peer && e.ofport && e.ofport > 0 && peer.ofport && peer.ofport > 0)
      return {external: e.ofport, integration: peer.ofport, externalName: e.name, integrationName: peer.name}
  }
  return undefined
}

/** Neutron's local VLAN of a VM port: the tag of the port whose interface has external_ids:iface-id = the port UUID, on the integration bridge. */
export function localVlanOf(view: OvsView, integrationBridge: string, portUuid: string): number | undefined {
  const found = view.portOfIfaceId(portUuid)
  if (!found || found.port.tag === null) return undefined
  const br = view.bridgeOfPort(found.port.name)
  return br?.name === integrationBridge && found.port.tag >= 1 && found.port.tag <= 4094 ? found.port.tag : undefined
}
