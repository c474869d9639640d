/**
 * /proc/net/bonding/<bond>, the bonding driver's own report, used to cross-check the bond members that
 * netlink gives (IFLA_MASTER). Slave names are matched whole: the original agent's substring test
 * (`intf in slave_val`) made eth1 a member of any bond holding eth10.
 */

interface ProcBondingSlave {
  name: string
  miiStatus?: string
  permanentMac?: string
}

export interface ProcBonding {
  /** e.g. "fault-tolerance (active-backup)" or "IEEE 802.3ad Dynamic link aggregation". */
  mode?: string
  activeSlave?: string
  miiStatus?: string
  slaves: ProcBondingSlave[]
}

/** Parses the text of /proc/net/bonding/<bond>; unknown lines are ignored, so new kernels do not break it. */
export function parseProcBonding(text: string): ProcBonding {
  const report: ProcBonding = {slaves: []}
  let slave: ProcBondingSlave | undefined
  for (const raw of text.split('\n')) {
    const colon = raw.indexOf(':')
    if (colon === -1) continue
    const key = raw.slice(0, colon).trim()
    const value = raw.slice(colon + 1).trim()
    if (key === 'Slave Interface') {
      slave = {name: value}
      report.slaves.push(slave)
    } else if (key === 'Bonding Mode') report.mode = value
    else if (key === 'Currently Active Slave') report.activeSlave = value === 'None' ? undefined : value
    else if (key === 'MII Status') {
      if (slave) slave.miiStatus = value
      else report.miiStatus = value
    } else if (key === 'Permanent HW addr' && slave) slave.permanentMac = value.toLowerCase()
  }
  return report
}

export interface BondMembersCheck {
  bond: string
  /** Members by netlink (links whose master is the bond). */
  netlink: string[]
  /** Members by /proc/net/bonding, or undefined when that file is absent (no bonding driver here). */
  procfs?: string[]
  /** Whether both name the same set; undefined without procfs. */
  agree?: boolean
}

export function compareBondMembers(
  bond: string,
  netlink: readonly string[],
  proc: ProcBonding | undefined,
): BondMembersCheck {
  const check: BondMembersCheck = {bond, netlink: [...netlink]}
  if (!proc) return check
  const procfs = proc.slaves.map((s) => s.name)
  check.procfs = procfs
  check.agree = procfs.length === netlink.length && procfs.every((name) => netlink.includes(name))
  return check
}
