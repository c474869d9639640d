import {describe, expect, it} from 'vitest'
import {compareBondMembers, parseProcBonding} from '../../src/net/bonding.js'

// The format of drivers/net/bonding/bond_procfs.c (Linux 6.x), active-backup with two slaves.
const ACTIVE_BACKUP = `Ethernet Channel Bonding Driver: v6.1.0

Bonding Mode: fault-tolerance (active-backup)
Primary Slave: None
Currently Active Slave: ens1f0
MII Status: up
MII Polling Interval (ms): 100
Up Delay (ms): 0
Down Delay (ms): 0
Peer Notification Delay (ms): 0

Slave Interface: ens1f0
MII Status: up
Speed: 25000 Mbps
Duplex: full
Link Failure Count: 0
Permanent HW addr: 3C:FD:FE:00:00:01
Slave queue ID: 0

Slave Interface: ens1f1
MII Status: down
Speed: Unknown
Duplex: Unknown
Link Failure Count: 2
Permanent HW addr: 3c:fd:fe:00:00:02
Slave queue ID: 0
`

describe('parseProcBonding', () => {
  it('reads mode, active slave, and each slave with its own MII status', () => {
    expect(parseProcBonding(ACTIVE_BACKUP)).toEqual({
      mode: 'fault-tolerance (active-backup)',
      activeSlave: 'ens1f0',
      miiStatus: 'up',
      slaves: [
        {name: 'ens1f0', miiStatus: 'up', permanentMac: '3c:fd:fe:00:00:01'},
        {name: 'ens1f1', miiStatus: 'down', permanentMac: '3c:fd:fe:00:00:02'},
      ],
    })
  })

  it('reads "None" as no active slave, and tolerates an empty or foreign file', () => {
    expect(parseProcBonding('Currently Active Slave: None\n').activeSlave).toBeUndefined()
    expect(parseProcBonding('')).toEqual({slaves: []})
    expect(parseProcBonding('garbage without colons\n\n')).toEqual({slaves: []})
  })
})

describe('compareBondMembers', () => {
  it('compares whole names as sets: eth1 is not eth10', () => {
    const proc = parseProcBonding('Slave Interface: eth10\nSlave Interface: eth2\n')
    expect(compareBondMembers('bond0', ['eth1', 'eth2'], proc).agree).toBe(false)
    expect(compareBondMembers('bond0', ['eth2', 'eth10'], proc).agree).toBe(true)
    expect(compareBondMembers('bond0', ['eth2'], proc).agree).toBe(false)
    expect(compareBondMembers('bond0', ['eth2'], undefined)).toEqual({bond: 'bond0', netlink: ['eth2']})
  })
})
