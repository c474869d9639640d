import {release, type} from 'node:os'

import type {AgentConfig} from '../config/schema.js'
import type {LldpAgentSettings} from '../lldp-agent/lldp-agent.js'
import {VERSION} from '../version.js'

export function lldpSettings(cfg: AgentConfig): LldpAgentSettings {
  const l = cfg.lldp
  return {
    mode: l.mode,
    txIntervalSeconds: l.tx_interval,
    txHold: l.tx_hold,
    txFastCount: l.tx_fast_count,
    txFastIntervalSeconds: l.tx_fast_interval,
    systemName: l.system_name,
    systemDescription: `vdp-agent ${VERSION} on ${type()} ${release()}`,
    evb: {
      retries: l.evb_retries,
      rte: l.evb_rte,
      rwd: l.evb_rwd,
      rka: l.evb_rka,
      rrRequest: l.evb_rr_request,
      groupId: l.evb_group_id,
    },
  }
}
