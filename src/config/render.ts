import {type KeySpec, type SectionName, sectionNames, sectionSpecs} from './schema.js'

export const SECTION_DOCS: Record<SectionName, string> = {
  general: 'Identity, state and the local control surface.',
  uplink:
    'How the uplink to the top-of-rack switch is chosen.\nPrecedence: the override file ([general] uplink_override_file) > static_interface (mode = static) > LLDP auto detection.',
  lldp: 'Our own LLDP agent: neighbours on candidate ports, and the EVB station TLV on the uplink\n(sent to the nearest-customer-bridge address 01:80:c2:00:00:00, like lldpad).',
  vdp: 'VDP22 associations of VM ports (VSIs) over ECP22. ECP/VDP timers come from the EVB negotiation.',
  rpc: 'Reporting to the controller and receiving its VM events.',
  dataplane: 'Local datapath programming (VLAN translation between the local and the switch-assigned VLAN).',
  metrics:
    'Prometheus metrics of the daemon (uplink, neighbours, VSIs, latency, ECP/VDP errors, queue, outbox, tasks).',
  log: 'Logging (pino). JSON lines to stdout for journald; readable on a terminal.',
}

export function defaultText(spec: KeySpec): string {
  if (spec.kind === 'list') return spec.default.join(', ')
  return String(spec.default)
}

export function typeText(spec: KeySpec): string {
  switch (spec.kind) {
    case 'enum':
      return `one of ${spec.values.join(' | ')}`
    case 'int':
      return `integer ${spec.min}..${spec.max}`
    case 'seconds':
      return `seconds ${spec.min}..${spec.max}`
    case 'bool':
      return 'true | false'
    case 'list':
      return 'comma-separated list'
    case 'path':
      return 'absolute path'
    case 'ifname':
      return 'interface name'
    case 'string':
      return 'string'
  }
}

/** The annotated default agent.ini: every key, its default, its type and its meaning. */
export function renderAnnotatedConfig(): string {
  const out: string[] = [
    '; vdp-agent configuration. Every key is shown with its default; delete or comment out what you keep as is.',
    '; Validate with: vdp-agent config check --config /etc/vdp-agent/agent.ini',
    '; Times are in seconds. A bad value stops the daemon with exit code 78 and names file, line, key and',
    '; what was expected; unknown keys only warn.',
  ]
  for (const section of sectionNames) {
    out.push('', `[${section}]`)
    for (const line of SECTION_DOCS[section].split('\n')) out.push(`; ${line}`)
    for (const [key, spec] of Object.entries(sectionSpecs(section))) {
      out.push('', `; ${spec.doc} (${typeText(spec)})`, `${key} = ${defaultText(spec)}`.trimEnd())
    }
  }
  return out.join('\n') + '\n'
}
