import {describe, expect, it} from 'vitest'

import {renderLldpStats} from '../../src/cli/lldp-stats.js'
import {discardTotals} from '../../src/lldp-agent/lldp-agent.js'

describe('lldp stats rendering (issue 10 item 6: discards visible in the CLI)', () => {
  const view = {
    listening: ['eth1', 'eth2'],
    transmitting: ['eth2'],
    interfaces: {
      eth1: {
        rxFrames: 50,
        rxDiscarded: 7,
        rxDiscardedByRule: {'too-many-neighbors': 6, 'mandatory-tlv-order': 1},
        ageouts: 2,
        evictions: 1,
        txFrames: 0,
        txErrors: 0,
      },
      eth2: {
        rxFrames: 10,
        rxDiscarded: 1,
        rxDiscardedByRule: {'own-frame': 1},
        ageouts: 0,
        evictions: 0,
        txFrames: 12,
        txErrors: 0,
      },
    },
  }

  it('lists every rule with its count and meaning, per interface', () => {
    const text = renderLldpStats(view)
    expect(text).toMatch(
      /eth1\s+mandatory-tlv-order\s+1\s+the first three TLVs must be Chassis ID, Port ID and Time To Live/,
    )
    expect(text).toMatch(/eth1\s+too-many-neighbors\s+6\s+the port already holds/)
    expect(text).toMatch(/eth2\s+own-frame\s+1/)
    expect(text).toMatch(/eth1\s+yes\s+no\s+50\s+7\s+2\s+1\s+0\s+0/)
    expect(text).toMatch(/eth2\s+yes\s+yes\s+10\s+1\s+0\s+0\s+12\s+0/)
  })

  it('adds up the discards for the status line', () => {
    expect(discardTotals(view.interfaces)).toEqual({
      total: 8,
      byRule: {'too-many-neighbors': 6, 'mandatory-tlv-order': 1, 'own-frame': 1},
    })
  })
})
