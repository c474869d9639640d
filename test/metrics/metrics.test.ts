import {afterEach, describe, expect, it} from 'vitest'

import {DaemonMetrics, type MetricsSources, vdpErrorReason} from '../../src/metrics/daemon-metrics.js'
import {MetricsServer, parseMetricsListen} from '../../src/metrics/server.js'
import {parseConfigText} from '../../src/config/load.js'
import {samples} from '../helpers/prometheus-text.js'

function sources(over: Partial<MetricsSources> = {}): MetricsSources & {state: Record<string, unknown>} {
  const state = {ecp: {retransmissions: 3, timeouts: 1}}
  return {
    state,
    uplink: () => ({ifname: 'eth1', source: 'lldp', state: 'up'}),
    neighborsByInterface: () => ({eth1: 1, eth2: 2}),
    vsisByState: () => ({associated: 5, failed: 1}),
    queue: () => ({waiting: {uplink: 0, vm: 7, bulk: 1}, inFlight: 1}),
    outbox: () => ({pending: 2, oldestCreatedAt: 1_000_000}),
    lldpRejectedByRule: () => ({eth2: {'first-tlv-not-chassis-id': 4}}),
    ecp: () => state.ecp,
    now: () => 1_030_000,
    ...over,
  }
}

describe('daemon metrics', () => {
  it('reads current state at scrape time, with Prometheus names, labels and base units', async () => {
    const src = sources()
    const m = new DaemonMetrics(src, {processMetrics: false})
    m.declareTask('reconcile')
    const s = samples(await m.scrape())
    expect(s.get('vdp_agent_uplink_up')).toBe(1)
    expect(s.get('vdp_agent_uplink_info{interface="eth1",source="lldp",state="up"}')).toBe(1)
    expect(s.get('vdp_agent_lldp_neighbors{interface="eth2"}')).toBe(2)
    expect(s.get('vdp_agent_lldp_rejected_frames_total{interface="eth2",rule="first-tlv-not-chassis-id"}')).toBe(4)
    expect(s.get('vdp_agent_vsis{state="associated"}')).toBe(5)
    expect(s.get('vdp_agent_vsis{state="pending"}')).toBe(0)
    expect(s.get('vdp_agent_queue_depth{priority="vm"}')).toBe(7)
    expect(s.get('vdp_agent_queue_in_flight')).toBe(1)
    expect(s.get('vdp_agent_outbox_pending')).toBe(2)
    expect(s.get('vdp_agent_outbox_oldest_age_seconds')).toBe(30)
    expect(s.get('vdp_agent_ecp_retransmissions_total')).toBe(3)
    expect(s.get('vdp_agent_ecp_timeouts_total')).toBe(1)
    expect(s.get('vdp_agent_task_runs_total{task="reconcile"}')).toBe(0)
    // Counters follow the source on the next scrape (no copy kept).
    src.state.ecp = {retransmissions: 10, timeouts: 2}
    expect(samples(await m.scrape()).get('vdp_agent_ecp_retransmissions_total')).toBe(10)
  })

  it('counts latency, VDP errors by the bridge’s reason, and periodic task runs', async () => {
    const m = new DaemonMetrics(sources(), {processMetrics: false})
    m.observeAssociation('assoc', 0.004)
    m.observeAssociation('assoc', 0.3)
    m.countVdpError('assoc', 'rejected', 2)
    m.countVdpError('assoc', 'rejected', 2)
    m.countVdpError('keepalive', 'timeout')
    m.runTask('reconcile', () => undefined)
    expect(() =>
      m.runTask('reconcile', () => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    const s = samples(await m.scrape())
    expect(s.get('vdp_agent_vsi_association_duration_seconds_bucket{le="0.005",operation="assoc"}')).toBe(1)
    expect(s.get('vdp_agent_vsi_association_duration_seconds_count{operation="assoc"}')).toBe(2)
    expect(s.get('vdp_agent_vdp_errors_total{operation="assoc",reason="insufficient_resources"}')).toBe(2)
    expect(s.get('vdp_agent_vdp_errors_total{operation="keepalive",reason="timeout"}')).toBe(1)
    expect(s.get('vdp_agent_task_runs_total{task="reconcile"}')).toBe(2)
    expect(s.get('vdp_agent_task_errors_total{task="reconcile"}')).toBe(1)
    expect(s.get('vdp_agent_task_last_success_timestamp_seconds{task="reconcile"}')).toBe(1030)
    expect(vdpErrorReason('rejected', 12)).toBe('reserved_error_12')
  })

  it('counts an async task run when it settles: a rejection is an error, a resolution a success', async () => {
    let now = 1_000_000
    const m = new DaemonMetrics(sources({now: () => now}), {processMetrics: false})
    m.declareTask('flow-audit')
    let finish!: () => void
    const pending = m.runTask('flow-audit', () => new Promise<void>((r) => (finish = r)))
    now = 1_005_000
    let s = samples(await m.scrape())
    expect(s.get('vdp_agent_task_runs_total{task="flow-audit"}')).toBe(1)
    expect(s.get('vdp_agent_task_last_success_timestamp_seconds{task="flow-audit"}')).toBe(0)
    finish()
    await pending
    await expect(m.runTask('flow-audit', () => Promise.reject(new Error('ovs-ofctl: timeout')))).rejects.toThrow(
      'ovs-ofctl: timeout',
    )
    s = samples(await m.scrape())
    expect(s.get('vdp_agent_task_runs_total{task="flow-audit"}')).toBe(2)
    expect(s.get('vdp_agent_task_errors_total{task="flow-audit"}')).toBe(1)
    expect(s.get('vdp_agent_task_last_success_timestamp_seconds{task="flow-audit"}')).toBe(1005)
  })

  it('reports the controller link and the OVS dataplane only when the daemon has them', async () => {
    const plain = samples(await new DaemonMetrics(sources(), {processMetrics: false}).scrape())
    expect([...plain.keys()].filter((k) => /^vdp_agent_(rpc|dataplane)_/.test(k))).toEqual([])

    let rpc: ReturnType<NonNullable<MetricsSources['rpc']>> = null
    let dumps = 0
    const src = sources({
      rpc: () => rpc,
      dataplane: async () => {
        dumps++
        return {
          ready: true,
          flowsByBridge: {'br-ex': 3, 'br-int': 2},
          audits: 4,
          auditFlowsAdded: 5,
          auditFlowsRemoved: 1,
        }
      },
    })
    const m = new DaemonMetrics(src, {processMetrics: false})
    // before the link exists: not connected, heartbeat age counted from the start (now() is fixed here)
    let s = samples(await m.scrape())
    expect(s.get('vdp_agent_rpc_connected')).toBe(0)
    expect(s.get('vdp_agent_rpc_heartbeat_age_seconds')).toBe(0)
    expect(s.get('vdp_agent_rpc_heartbeats_total')).toBe(0)
    rpc = {connected: true, lastHeartbeatAt: 1_030_000 - 12_500, heartbeatsSent: 7, badMessages: 2}
    s = samples(await m.scrape())
    expect(s.get('vdp_agent_rpc_connected')).toBe(1)
    expect(s.get('vdp_agent_rpc_heartbeat_age_seconds')).toBe(12.5)
    expect(s.get('vdp_agent_rpc_heartbeats_total')).toBe(7)
    expect(s.get('vdp_agent_rpc_bad_messages_total')).toBe(2)
    expect(s.get('vdp_agent_dataplane_ready')).toBe(1)
    expect(s.get('vdp_agent_dataplane_flows{bridge="br-ex"}')).toBe(3)
    expect(s.get('vdp_agent_dataplane_flows{bridge="br-int"}')).toBe(2)
    expect(s.get('vdp_agent_dataplane_audits_total')).toBe(4)
    expect(s.get('vdp_agent_dataplane_audit_flows_added_total')).toBe(5)
    expect(s.get('vdp_agent_dataplane_audit_flows_removed_total')).toBe(1)
    expect(dumps).toBe(2) // once per scrape, not once per series
  })

  it('every name follows the conventions: vdp_agent_ prefix, counters end in _total, no unit-less durations', async () => {
    const m = new DaemonMetrics(sources({rpc: () => null, dataplane: async () => null}), {processMetrics: false})
    const metrics = await m.registry.getMetricsAsJSON()
    for (const metric of metrics) {
      expect(metric.name).toMatch(/^vdp_agent_[a-z_]+$/)
      if (String(metric.type) === 'counter') expect(metric.name).toMatch(/_total$/)
      if (/duration|_age|timestamp/.test(metric.name.slice('vdp_agent_'.length)))
        expect(metric.name).toMatch(/_seconds(_total|_bucket)?$/)
    }
  })
})

describe('[metrics] listen', () => {
  let server: MetricsServer | undefined
  afterEach(async () => server?.close())

  it('is off by default and loopback when no address is given', () => {
    expect(parseConfigText('').config.metrics.listen).toBe('off')
    expect(parseMetricsListen('off')).toBeUndefined()
    expect(parseMetricsListen('on')).toEqual({host: '127.0.0.1', port: 9477})
    expect(parseMetricsListen('true')).toEqual({host: '127.0.0.1', port: 9477})
    expect(parseMetricsListen(':9100')).toEqual({host: '127.0.0.1', port: 9100})
    expect(parseMetricsListen('9100')).toEqual({host: '127.0.0.1', port: 9100})
    expect(parseMetricsListen('0.0.0.0:9477')).toEqual({host: '0.0.0.0', port: 9477})
    expect(parseMetricsListen('[::1]:9477')).toEqual({host: '::1', port: 9477})
  })

  it('rejects a bad value at config time, naming the forms it accepts', () => {
    for (const bad of ['65536', 'host:0', 'maybe', '[::1]']) {
      expect(() => parseConfigText(`[metrics]\nlisten = ${bad}\n`, 'agent.ini')).toThrow(
        /\[metrics\][\s\S]*listen[\s\S]*HOST:PORT/,
      )
    }
  })

  it('serves GET /metrics and 404 elsewhere; a busy port is a typed error', async () => {
    const m = new DaemonMetrics(sources(), {processMetrics: false})
    server = new MetricsServer(async () => ({body: await m.scrape(), contentType: m.contentType}))
    const port = await server.listen({host: '127.0.0.1', port: 0})
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/)
    expect(samples(await res.text()).get('vdp_agent_uplink_up')).toBe(1)
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404)
    const second = new MetricsServer(async () => ({body: '', contentType: 'text/plain'}))
    await expect(second.listen({host: '127.0.0.1', port})).rejects.toMatchObject({code: 'METRICS_LISTEN_FAILED'})
  })
})
