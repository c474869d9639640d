import type {LldpStatsView} from '../control/views.js'
import {LLDP_AGENT_DISCARD_RULES} from '../lldp-agent/lldp-agent.js'
import {LLDP_RULES} from '../lldp/index.js'
import {renderTable} from './table.js'

/** What a discard rule means: the decoder's rules (src/lldp/rules.ts) and the agent's own. */
function discardRuleDescription(rule: string): string {
  if (rule in LLDP_RULES) return LLDP_RULES[rule as keyof typeof LLDP_RULES].description
  if (rule in LLDP_AGENT_DISCARD_RULES) return LLDP_AGENT_DISCARD_RULES[rule as keyof typeof LLDP_AGENT_DISCARD_RULES]
  return 'unknown rule'
}

/** `vdp-agent lldp stats`: per-interface counters, then every discard by interface and rule. */
export function renderLldpStats(view: LldpStatsView): string {
  const names = Object.keys(view.interfaces).sort()
  if (names.length === 0) return `no LLDP traffic yet (listening on ${view.listening.join(', ') || 'nothing'})`
  const lines = [
    renderTable(
      ['INTERFACE', 'LISTEN', 'TX', 'RX FRAMES', 'DISCARDED', 'AGEOUTS', 'EVICTIONS', 'TX FRAMES', 'TX ERRORS'],
      names.map((n) => {
        const s = view.interfaces[n]
        return [
          n,
          view.listening.includes(n) ? 'yes' : 'no',
          view.transmitting.includes(n) ? 'yes' : 'no',
          s.rxFrames,
          s.rxDiscarded,
          s.ageouts,
          s.evictions,
          s.txFrames,
          s.txErrors,
        ]
      }),
    ),
  ]
  const rows = names.flatMap((n) =>
    Object.entries(view.interfaces[n].rxDiscardedByRule)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, count]) => [n, rule, count, discardRuleDescription(rule)]),
  )
  if (rows.length > 0)
    lines.push('', 'discarded LLDPDUs by rule:', renderTable(['INTERFACE', 'RULE', 'COUNT', 'MEANING'], rows))
  return lines.join('\n')
}
