/**
 * The one description of agent.ini: every section and key with its type, default and meaning.
 * The loader validates against it, the typed `AgentConfig` is derived from it, and a test checks that
 * the shipped, annotated agent.ini lists exactly these keys with these defaults.
 */

interface BaseSpec {
  doc: string
}
export interface StringSpec extends BaseSpec {
  kind: 'string'
  default: string
  /** Checked only for non-empty values unless `required`. */
  pattern?: RegExp
  expected?: string
  maxLength?: number
}
export interface PathSpec extends BaseSpec {
  kind: 'path'
  default: string
}
export interface IntSpec extends BaseSpec {
  kind: 'int'
  default: number
  min: number
  max: number
}
export interface SecondsSpec extends BaseSpec {
  kind: 'seconds'
  default: number
  min: number
  max: number
}
export interface BoolSpec extends BaseSpec {
  kind: 'bool'
  default: boolean
}
export interface EnumSpec<V extends string = string> extends BaseSpec {
  kind: 'enum'
  default: V
  values: readonly V[]
}
export interface ListSpec extends BaseSpec {
  kind: 'list'
  default: readonly string[]
  itemPattern?: RegExp
  itemExpected?: string
}
export interface IfNameSpec extends BaseSpec {
  kind: 'ifname'
  default: string
}
export type KeySpec = StringSpec | PathSpec | IntSpec | SecondsSpec | BoolSpec | EnumSpec | ListSpec | IfNameSpec

const str = (s: Omit<StringSpec, 'kind'>): StringSpec => ({kind: 'string', ...s})
const path = (s: Omit<PathSpec, 'kind'>): PathSpec => ({kind: 'path', ...s})
const int = (s: Omit<IntSpec, 'kind'>): IntSpec => ({kind: 'int', ...s})
const seconds = (s: Omit<SecondsSpec, 'kind'>): SecondsSpec => ({kind: 'seconds', ...s})
const bool = (s: Omit<BoolSpec, 'kind'>): BoolSpec => ({kind: 'bool', ...s})
const oneOf = <const V extends string>(values: readonly V[], s: {default: NoInfer<V>; doc: string}): EnumSpec<V> => ({
  kind: 'enum',
  values,
  ...s,
})
const list = (s: Omit<ListSpec, 'kind'>): ListSpec => ({kind: 'list', ...s})
const ifname = (s: Omit<IfNameSpec, 'kind'>): IfNameSpec => ({kind: 'ifname', ...s})

const GLOB = /^[A-Za-z0-9_.:@*?[\]!-]{1,64}$/
/** TCP port 1–65535. */
const PORT = '([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])'
/** off | on (and the boolean spellings) | PORT | :PORT | HOST:PORT | [IPv6]:PORT (src/metrics/server.ts). */
const METRICS_LISTEN = new RegExp(
  `^(off|on|false|true|no|yes|:?${PORT}|([A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+\\]):${PORT})$`,
  'i',
)

export const configSchema = {
  general: {
    host_id: str({
      default: '',
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      expected: 'a host name of letters, digits, `.`, `_` or `-` (at most 64)',
      doc: 'Identity of this node towards the controller (RPC topic dfa_agent_<host_id>). Empty: the host name.',
    }),
    state_dir: path({
      default: '/var/lib/vdp-agent',
      doc: 'Directory of the SQLite database (vdp-agent.db): uplink, neighbours, VSIs, outbox, journal.',
    }),
    control_socket: path({
      default: '/run/vdp-agent/control.sock',
      doc: 'Unix socket (mode 0660) on which the daemon answers the CLI.',
    }),
    uplink_override_file: path({
      default: '/etc/vdp-agent/uplink-override',
      doc: 'Static uplink override written by `vdp-agent uplink set IF`; wins over everything else while present.',
    }),
    queue_capacity: int({
      default: 10000,
      min: 16,
      max: 1_000_000,
      doc: 'Bound of the VM and bulk-VM event queue; an event beyond it is refused with a clear error.',
    }),
  },
  uplink: {
    mode: oneOf(['auto', 'static'] as const, {
      default: 'auto',
      doc: 'auto: the port whose LLDP neighbour advertises EVB bridge mode. static: static_interface.',
    }),
    static_interface: ifname({
      default: '',
      doc: 'The uplink when mode = static (a bond slave resolves to its bond). Required in static mode.',
    }),
    include: list({
      default: ['*'],
      itemPattern: GLOB,
      itemExpected: 'shell-style interface globs (letters, digits, `*?[]!._:@-`)',
      doc: 'Interfaces considered for auto detection, as shell globs.',
    }),
    exclude: list({
      default: [],
      itemPattern: GLOB,
      itemExpected: 'shell-style interface globs (letters, digits, `*?[]!._:@-`)',
      doc: 'Interfaces never considered, even when included, as shell globs.',
    }),
    candidate_kinds: list({
      default: ['physical'],
      itemPattern: /^[a-z0-9_-]{1,32}$/,
      itemExpected: 'link kinds such as physical, veth, macvlan',
      doc: 'Link kinds eligible for auto detection besides bonds (labs add veth).',
    }),
    detection_interval: seconds({
      default: 30,
      min: 1,
      max: 3600,
      doc: 'Period of the reconciliation backstop; detection itself is driven by link and LLDP events.',
    }),
    down_debounce: seconds({
      default: 10,
      min: 0,
      max: 3600,
      doc: 'How long the EVB neighbour may be missing before the uplink goes down. Carrier loss is immediate.',
    }),
  },
  lldp: {
    mode: oneOf(['rxtx', 'rx', 'off'] as const, {
      default: 'rxtx',
      doc: "rxtx: receive and transmit (EVB station TLV on the uplink; at start and when a carrier returns, one LLDPDU without EVB TLV on each candidate port so the switch answers at once). rx: receive only (another LLDP daemon transmits); the cost: the uplink is found only at the switch's next periodic LLDPDU (up to its tx interval, 30 s on most switches) after start or a carrier flap. off: no LLDP (static uplink only).",
    }),
    tx_interval: int({default: 30, min: 1, max: 3600, doc: 'msgTxInterval (s) between LLDPDUs on the uplink.'}),
    tx_hold: int({default: 4, min: 1, max: 100, doc: 'msgTxHold: the advertised TTL is tx_interval × tx_hold + 1 s.'}),
    tx_fast_count: int({
      default: 4,
      min: 1,
      max: 8,
      doc: 'txFastInit: LLDPDUs sent at tx_fast_interval when a link or EVB change starts.',
    }),
    tx_fast_interval: int({default: 1, min: 1, max: 3600, doc: 'msgFastTx (s) during fast start.'}),
    system_name: str({
      default: '',
      maxLength: 255,
      doc: 'System Name advertised. Empty: the host name.',
    }),
    evb_retries: int({
      default: 3,
      min: 0,
      max: 7,
      doc: 'EVB R: ECP retries this station proposes (the larger of both sides wins).',
    }),
    evb_rte: int({default: 8, min: 0, max: 31, doc: 'EVB RTE: ECP ack timer exponent proposed, 10 µs × 2^RTE.'}),
    evb_rwd: int({default: 20, min: 0, max: 31, doc: 'EVB RWD: VDP resource wait delay exponent proposed.'}),
    evb_rka: int({default: 20, min: 0, max: 31, doc: 'EVB RKA: VDP keep-alive exponent proposed, 10 µs × 2^RKA.'}),
    evb_rr_request: bool({default: false, doc: 'Ask the bridge for reflective relay (RRREQ).'}),
    evb_group_id: bool({default: true, doc: 'Announce Group ID support (SGID); needed by the gid filter formats.'}),
  },
  vdp: {
    manager_id: str({
      default: '0',
      pattern: /^(?:[0-9A-Fa-f-]{1,36}|[A-Za-z0-9]{1,15})$/,
      expected: 'hex digits and dashes (binary, like vdptool mgrid2) or up to 15 letters and digits',
      doc: 'VSI Manager ID (16 octets on the wire): hex like vdptool mgrid2 = 0, or a short name.',
    }),
    type_id: int({default: 0, min: 0, max: 16_777_215, doc: 'VSI Type ID.'}),
    type_version: int({default: 0, min: 0, max: 255, doc: 'VSI Type Version.'}),
    vsiid_format: oneOf(['uuid', 'mac'] as const, {
      default: 'uuid',
      doc: 'VSIID: uuid = the port UUID (what Cisco DFA expects), mac = the VM MAC.',
    }),
    filter_format: oneOf(['gid-mac-vid', 'gid-vid', 'mac-vid', 'vid'] as const, {
      default: 'gid-mac-vid',
      doc: 'Filter info format; gid = the network segmentation id.',
    }),
    bridge_profile: oneOf(['standard', 'lldpad'] as const, {
      default: 'standard',
      doc: 'How hard to push the bridge: standard = full batches; lldpad = the limits an lldpad bridge needs (End TLV, one VDPDU awaiting answers, ECPDUs ≥ 3 ms apart).',
    }),
    evb_wait: seconds({
      default: 30,
      min: 0.01,
      max: 3600,
      doc: "How long VDP waits for the bridge's EVB TLV on a new uplink before it runs with the [lldp] evb_* values instead (a switch that sends none); status shows which.",
    }),
    retry_initial: seconds({
      default: 1,
      min: 0.01,
      max: 3600,
      doc: 'First retry delay of a failed association; doubles each time.',
    }),
    retry_max: seconds({default: 300, min: 0.01, max: 86400, doc: 'Largest retry delay.'}),
    retry_limit: int({
      default: 12,
      min: 1,
      max: 1000,
      doc: 'Attempts before a VSI is left failed (reported, kept, retried on the next uplink up or VM event).',
    }),
  },
  rpc: {
    transport: oneOf(['local', 'amqp'] as const, {
      default: 'local',
      doc: 'local: no controller, the CLI feeds VM events. amqp: oslo.messaging-compatible RPC.',
    }),
    url: str({
      default: 'amqp://guest:guest@localhost:5672/',
      pattern: /^(amqps?|rabbit):\/\/\S+$/,
      expected: 'an amqp://, amqps:// or oslo rabbit:// transport URL',
      doc: "Broker for transport = amqp: amqp(s)://user:pass@host:port/vhost, or the server's oslo transport_url (rabbit://user:pass@host1:5672,user:pass@host2:5672/vhost; several hosts for failover). The password never appears in logs or CLI output.",
    }),
    exchange: str({
      default: 'dfa',
      pattern: /^[A-Za-z0-9_.-]{1,64}$/,
      expected: 'an exchange name',
      doc: 'Topic exchange.',
    }),
    server_topic: str({
      default: 'dfa_server_q',
      pattern: /^[A-Za-z0-9_.-]{1,128}$/,
      expected: 'a topic name',
      doc: 'Topic the controller listens on.',
    }),
    agent_topic_prefix: str({
      default: 'dfa_agent_',
      pattern: /^[A-Za-z0-9_.-]{1,64}$/,
      expected: 'a topic prefix',
      doc: 'The agent listens on <agent_topic_prefix><host_id>.',
    }),
    heartbeat_interval: seconds({
      default: 30,
      min: 1,
      max: 3600,
      doc: 'Period of the heartbeat cast to the server (upstream: 30 s).',
    }),
    call_timeout: seconds({
      default: 60,
      min: 0.5,
      max: 3600,
      doc: "How long a call waits for the server's reply (oslo rpc_response_timeout); the outbox retries after it.",
    }),
    topology_interval: seconds({
      default: 90,
      min: 5,
      max: 3600,
      doc: 'Longest gap between two save_topo_disc_params of an LLDP interface (sent at once on a change).',
    }),
    durable_queues: bool({
      default: false,
      doc: "Mirror the server's oslo amqp_durable_queues: the exchange and topic queues are durable (flags must match the server's).",
    }),
  },
  dataplane: {
    driver: oneOf(['none', 'ovs'] as const, {
      default: 'none',
      doc: 'none: no datapath programming. ovs: Open vSwitch flows.',
    }),
    integration_bridge: ifname({default: 'br-int', doc: 'OVS integration bridge.'}),
    external_bridge: ifname({default: 'br-ethd', doc: 'OVS bridge that holds the uplink.'}),
    ovs_rundir: path({
      default: '/run/openvswitch',
      doc: 'OVS run directory: db.sock (OVSDB) and <bridge>.mgmt (OpenFlow) are there.',
    }),
    port_tag_timeout: seconds({
      default: 30,
      min: 1,
      max: 3600,
      doc: "How long to wait for a VM port's local VLAN tag on the integration bridge.",
    }),
    audit_interval: seconds({
      default: 60,
      min: 1,
      max: 86400,
      doc: 'Period of the flow audit (also run at start, on uplink up and on an OVS restart).',
    }),
    ovs_timeout: seconds({default: 10, min: 1, max: 300, doc: 'Limit of each ovs-vsctl / ovs-ofctl command.'}),
  },
  metrics: {
    listen: str({
      default: 'off',
      pattern: METRICS_LISTEN,
      expected: 'off, on (127.0.0.1:9477), PORT or :PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT',
      doc: 'Prometheus endpoint (GET /metrics). off: none. on, PORT or :PORT: loopback only (127.0.0.1, port 9477 for on). HOST:PORT: that address (0.0.0.0:9477 for every interface).',
    }),
  },
  log: {
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, {
      default: 'info',
      doc: 'Log level (the daemon’s --log-level wins).',
    }),
    format: oneOf(['auto', 'json', 'pretty', 'journal'] as const, {
      default: 'auto',
      doc: 'auto: pretty on a terminal, journal under systemd (JSON with <N> priority prefixes), JSON otherwise.',
    }),
  },
} as const

type SpecValue<S> =
  S extends EnumSpec<infer V>
    ? V
    : S extends IntSpec | SecondsSpec
      ? number
      : S extends BoolSpec
        ? boolean
        : S extends ListSpec
          ? string[]
          : string

type ConfigSchema = typeof configSchema
export type SectionName = keyof ConfigSchema
export type AgentConfig = {
  [S in SectionName]: {[K in keyof ConfigSchema[S]]: SpecValue<ConfigSchema[S][K]>}
}

export function sectionSpecs(section: SectionName): Record<string, KeySpec> {
  return configSchema[section] as Record<string, KeySpec>
}
export const sectionNames = Object.keys(configSchema) as SectionName[]
