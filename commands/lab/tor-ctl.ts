import {Args, Flags} from '@oclif/core'

import {outputWidth, renderTable} from '../../src/cli/table.js'
import {controlCaller, DaemonUnreachableError} from '../../src/control/client.js'
import {VdpAgentError} from '../../src/errors.js'
import {VdpCommand} from '../../src/cli/vdp-command.js'
import {TOR_CONTROL_METHODS, type TorControlMethods} from '../../src/lab/tor-control.js'
import {faultsFromFlags, hasFaultFlags, torFaultFlags} from '../../src/lab/tor-flags.js'
import {
  faultsToJson,
  parseGroupId,
  parseVid,
  parseVsiid,
  TorOptionError,
  type FaultsJson,
} from '../../src/lab/tor-options.js'
import type {TorStatus} from '../../src/lab/tor-simulator.js'
import type {BridgeVsiView} from '../../src/lab/vdp-bridge.js'
import {vsiidKey} from '../../src/vdp/vsiid.js'

export default class LabTorCtl extends VdpCommand {
  static override summary =
    'Steer a running ToR simulator: status, VSIs, unsolicited De-Associate, VLAN change, faults.'
  static override description = [
    'Talks to `vdp-agent lab tor --control PATH` over its control socket.',
    "status: what the simulator advertises, the station's EVB TLV, the negotiated values, counters.",
    'vsis: the VSIs the bridge holds, with their VLANs.',
    'deassociate: an unsolicited De-Associate for each --vsiid.',
    'change-vlan: move one --vsiid, or every VSI of a --group (and later ones), to --vid; stations learn it from the answer to their next keep-alive.',
    'set-faults: replace the whole fault set with the FAULTS flags; --clear removes every fault.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> lab tor-ctl status --control /run/tor.sock',
    '<%= config.bin %> lab tor-ctl deassociate --control /run/tor.sock --vsiid a7b5c4d2-1111-4222-8333-123456789abc',
    '<%= config.bin %> lab tor-ctl change-vlan --control /run/tor.sock --group 20000 --vid 3001',
    '<%= config.bin %> lab tor-ctl set-faults --control /run/tor.sock --reject 2,keep --reject-rate 0.5',
    '<%= config.bin %> lab tor-ctl set-faults --control /run/tor.sock --clear',
  ]
  static override enableJsonFlag = true
  static override args = {
    method: Args.string({required: true, options: [...TOR_CONTROL_METHODS], description: 'What to do.'}),
  }
  static override flags = {
    control: Flags.string({summary: 'Control socket of the simulator (its --control).', required: true}),
    vsiid: Flags.string({
      summary: 'A VSI: its UUID, or a uuid:/mac:/ipv4:/ipv6:/local: key (deassociate: repeatable).',
      multiple: true,
    }),
    group: Flags.string({summary: 'change-vlan: every VSI with this group (segmentation) ID.'}),
    vid: Flags.string({summary: 'change-vlan: the VLAN to move to (2–4094).'}),
    clear: Flags.boolean({summary: 'set-faults: remove every fault.'}),
    ...torFaultFlags,
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(LabTorCtl)
    const tor = controlCaller<TorControlMethods>(flags.control)
    const call = <M extends keyof TorControlMethods>(method: M, params?: TorControlMethods[M]['params']) =>
      tor(method, params).catch((err: unknown) => {
        if (err instanceof DaemonUnreachableError) {
          throw new VdpAgentError(
            'DAEMON_UNREACHABLE',
            `no ToR simulator answers on ${flags.control} (is \`vdp-agent lab tor --control ${flags.control}\` running?)`,
          )
        }
        throw err
      })
    switch (args.method) {
      case 'status': {
        const status = await call('status')
        this.log(describeStatus(status))
        return status
      }
      case 'vsis': {
        const vsis = await call('vsis')
        this.log(vsis.length === 0 ? 'no VSIs' : vsiTable(vsis))
        return vsis
      }
      case 'deassociate': {
        if (!flags.vsiid?.length) throw new TorOptionError('deassociate needs --vsiid')
        const vsiids = flags.vsiid.map((v) => vsiidKey(parseVsiid(v)))
        const result = await call('deassociate', {vsiid: vsiids})
        this.log(`De-Associate sent for ${result.deassociated} of ${vsiids.length} VSI(s)`)
        return result
      }
      case 'change-vlan': {
        if ((flags.vsiid === undefined) === (flags.group === undefined) || (flags.vsiid?.length ?? 0) > 1) {
          throw new TorOptionError('change-vlan needs one --vsiid or --group')
        }
        const vid = parseVid(flags.vid)
        const target = flags.vsiid
          ? {vsiid: vsiidKey(parseVsiid(flags.vsiid[0]))}
          : {groupId: parseGroupId(flags.group)}
        const result = await call('change-vlan', {...target, vid})
        this.log(`${result.changed} VSI(s) moved to VLAN ${vid}; stations learn it at their next keep-alive`)
        return result
      }
      default: {
        if ((flags.clear ?? false) === hasFaultFlags(flags))
          throw new TorOptionError('set-faults needs FAULTS flags, or --clear alone')
        const result = await call('set-faults', faultsToJson(faultsFromFlags(flags)))
        this.log(`faults now: ${describeFaults(result.faults)}`)
        return result
      }
    }
  }
}

function describeStatus(s: TorStatus): string {
  const station = s.station
    ? `${s.station.mac}, negotiated R ${s.station.negotiated.retries} RTE ${s.station.negotiated.rte} RWD ${s.station.negotiated.rwd} ` +
      `RKA ${s.station.negotiated.rka}, group IDs ${s.station.negotiated.groupIds ? 'yes' : 'no'}, ` +
      `reflective relay ${s.station.negotiated.reflectiveRelay ? 'on' : 'off'}`
    : s.requireStationEvb
      ? 'none heard (ECP ignored until its EVB TLV arrives)'
      : 'none heard'
  const policy =
    s.vlanPolicy.kind === 'pool' ? `pool ${s.vlanPolicy.from}-${s.vlanPolicy.to}` : 'from the segment (group) ID'
  const c = s.counters
  return [
    `${s.systemName} port ${s.portId} on ${s.interface} (${s.mac}), ${s.state}`,
    `station:     ${station}`,
    `VLANs:       ${policy}`,
    `faults:      ${describeFaults(s.faults)}`,
    `VSIs:        ${s.vsis}`,
    `LLDP:        ${c.lldp.txFrames} sent, ${c.lldp.rxFrames} received (${c.lldp.rxDiscarded} discarded)`,
    `ECP:         ${c.ecp.received} received (${c.ecp.ignoredBeforeEvb} before the station's EVB TLV), ` +
      `${c.transport.txPdus} sent, ${c.transport.retransmissions} retransmitted, ${c.transport.giveUps} given up`,
    `VDP:         ${c.bridge.requests} requests (${c.bridge.keepalives} keep-alives), ${c.bridge.rejections} rejected, ` +
      `${c.bridge.unsolicitedDeassociations} unsolicited De-Associates, ${c.bridge.malformedPdus} malformed`,
  ].join('\n')
}

function describeFaults(f: FaultsJson): string {
  const parts: string[] = []
  if (f.dropAckRate) parts.push(`drop ${f.dropAckRate} of ACKs`)
  if (f.dropResponseRate) parts.push(`drop ${f.dropResponseRate} of responses`)
  if (f.responseDelayMs) parts.push(`delay responses ${f.responseDelayMs} ms`)
  if (f.reject) {
    const flags = [f.reject.hard ? 'hard' : '', f.reject.keep ? 'keep' : ''].filter(Boolean).join(',')
    const match = f.reject.match ? ` matching ${JSON.stringify(f.reject.match)}` : ''
    parts.push(
      `reject with error ${f.reject.code}${flags ? ` (${flags})` : ''}${match}${f.reject.rate !== undefined ? `, ${f.reject.rate} of them` : ''}`,
    )
  }
  return parts.length > 0 ? parts.join('; ') : 'none'
}

function vsiTable(vsis: BridgeVsiView[]): string {
  return renderTable(
    ['VSIID', 'MODE', 'TYPE', 'MACS', 'GROUPS', 'VLANS'],
    vsis.map((v) => [
      v.key,
      v.mode,
      `${v.typeId}/${v.typeVersion}`,
      v.filter.entries
        .map((e) => e.mac ?? '')
        .filter(Boolean)
        .join(','),
      v.filter.entries
        .map((e) => e.groupId ?? '')
        .filter((g) => g !== '')
        .join(','),
      v.vids.join(','),
    ]),
    {maxWidth: outputWidth(), shrink: [3, 0, 4, 5], more: '--json'},
  )
}
