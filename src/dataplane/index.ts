/** The datapath driver `[dataplane] driver` names (docs/dataplane.md). */
import {join} from 'node:path'

import type {AgentConfig} from '../config/schema.js'
import type {Clock} from '../core/clock.js'
import type {Logger} from '../log/logger.js'
import {type Dataplane, NoDataplane} from './dataplane.js'
import {OvsDataplane} from './ovs-dataplane.js'
import {OvsTools} from './ovs-tools.js'
import {OvsdbMonitor} from './ovsdb-monitor.js'

export type {Dataplane, FlowsView, AuditResult} from './dataplane.js'

export function createDataplane(config: AgentConfig['dataplane'], log: Logger, clock: Clock): Dataplane {
  if (config.driver !== 'ovs') return new NoDataplane()
  const rundir = config.ovs_rundir
  return new OvsDataplane({
    integrationBridge: config.integration_bridge,
    externalBridge: config.external_bridge,
    rundir,
    tagTimeoutMs: config.port_tag_timeout * 1000,
    auditIntervalMs: config.audit_interval * 1000,
    monitor: new OvsdbMonitor(join(rundir, 'db.sock')),
    tools: new OvsTools({rundir, timeoutMs: config.ovs_timeout * 1000}),
    log: log.child({component: 'dataplane'}),
    clock,
  })
}
