import {readFileSync} from 'node:fs'
import {Flags} from '@oclif/core'
import pino from 'pino'

import {ControlServer} from '../../src/control/server.js'
import {errorMessage} from '../../src/errors.js'
import {VdpCommand} from '../../src/cli/vdp-command.js'
import {torControlHandlers, TOR_CONTROL_METHODS} from '../../src/lab/tor-control.js'
import {faultsFromFlags, torFaultFlags} from '../../src/lab/tor-flags.js'
import {parseInteger, parseVlanPool, TorOptionError} from '../../src/lab/tor-options.js'
import {
  DEFAULT_TOR_EVB_POLICY,
  LLDPAD_SAFE_TX_GAP_MS,
  TorSimulator,
  type TorEvent,
} from '../../src/lab/tor-simulator.js'
import {DEFAULT_TOR_IDENTITY, DEFAULT_TOR_LLDP_TIMERS} from '../../src/lab/tor-lldp.js'
import {createLogger, type LogFormat, type LogLevel, type Logger} from '../../src/log/logger.js'
import {isGroupMac, normalizeMac, parseMac} from '../../src/core/ethernet.js'
import {AfPacketFrameIO} from '../../src/net/frames.js'
import {validateIfName} from '../../src/net/ifname.js'

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
const FORMATS = ['auto', 'json', 'pretty'] as const
const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]{0,63}$/
const EVB = 'EVB'
const LLDP = 'LLDP'

export default class LabTor extends VdpCommand {
  static override summary = 'Run the ToR simulator: the bridge side of LLDP/EVB, ECP and VDP on one interface.'
  static override description = [
    "Advertises an 802.1Qbg EVB bridge in LLDP (to 01:80:c2:00:00:00), negotiates EVB with the station's TLV (each of R, RTE, RWD, RKA the larger of both sides) and answers VDP22 over ECP22. Associate and Pre-Associate get VLANs from the policy: --vlan-from-segment (the default) takes the filter's group ID, else the VSI type ID, folded into 2–4094; --vlan-pool FROM-TO hands out the lowest free VLAN, one per group. A non-zero VLAN in a request is granted as asked. De-Associate is confirmed.",
    "Faults can be set from the start (FAULTS flags) or at run time through the control socket (vdp-agent lab tor-ctl), which also sends unsolicited De-Associates and VLAN changes. Like lldpad's bridge, the simulator ignores ECP until the station's EVB TLV has been heard (--ecp-before-evb turns that off).",
    'Runs in the foreground until SIGTERM or SIGINT, then sends a shutdown LLDPDU (TTL 0) and exits 0. Needs CAP_NET_RAW: run it inside a lab network namespace, never on a production link.',
  ].join('\n\n')
  static override examples = [
    'ip netns exec tor <%= config.bin %> lab tor --interface t0',
    'ip netns exec tor <%= config.bin %> lab tor -i t0 --vlan-pool 100-199 --rte 14 --control /run/tor.sock',
    'ip netns exec tor <%= config.bin %> lab tor -i t0 --reject 2,hard --reject-group 20000 --json-events',
    'ip netns exec tor <%= config.bin %> lab tor -i t0 --drop-acks 0.1 --drop-responses 0.05 --seed 7',
  ]
  static override enableJsonFlag = false
  static override flags = {
    interface: Flags.string({
      char: 'i',
      summary: 'Interface to serve (the switch port facing the station).',
      required: true,
    }),
    mac: Flags.string({summary: "Our MAC address (default: the interface's)."}),
    'vlan-pool': Flags.string({
      summary: 'Assign VLANs from FROM-TO (lowest free first, one per group ID or type ID).',
      exclusive: ['vlan-from-segment'],
    }),
    'vlan-from-segment': Flags.boolean({
      summary: 'Assign VLAN = group (segmentation) ID, else type ID, folded into 2–4094 (default).',
      exclusive: ['vlan-pool'],
    }),
    retries: Flags.integer({
      summary: `EVB R, ECP retries 0–7 (default ${DEFAULT_TOR_EVB_POLICY.retries}).`,
      min: 0,
      max: 7,
      helpGroup: EVB,
    }),
    rte: Flags.integer({
      summary: `EVB RTE, ECP retransmit exponent 0–31 (default ${DEFAULT_TOR_EVB_POLICY.rte}: 10 µs × 2^8).`,
      min: 0,
      max: 31,
      helpGroup: EVB,
    }),
    rwd: Flags.integer({
      summary: `EVB RWD, VDP resource-wait exponent 0–31 (default ${DEFAULT_TOR_EVB_POLICY.rwd}).`,
      min: 0,
      max: 31,
      helpGroup: EVB,
    }),
    rka: Flags.integer({
      summary: `EVB RKA, VDP keep-alive exponent 0–31 (default ${DEFAULT_TOR_EVB_POLICY.rka}).`,
      min: 0,
      max: 31,
      helpGroup: EVB,
    }),
    rrcap: Flags.boolean({summary: 'Offer reflective relay (RRCAP).', default: true, allowNo: true, helpGroup: EVB}),
    bgid: Flags.boolean({
      summary: 'Support VDP group IDs (BGID); filter formats 3/4 need it.',
      default: true,
      allowNo: true,
      helpGroup: EVB,
    }),
    'ecp-before-evb': Flags.boolean({
      summary: "Answer ECP before the station's EVB TLV has been heard (lldpad's bridge does not).",
      helpGroup: EVB,
    }),
    'system-name': Flags.string({
      summary: `LLDP system name (default ${DEFAULT_TOR_IDENTITY.systemName}).`,
      helpGroup: LLDP,
    }),
    'port-id': Flags.string({summary: `LLDP port ID (default ${DEFAULT_TOR_IDENTITY.portId}).`, helpGroup: LLDP}),
    'tx-interval': Flags.integer({
      summary: `Seconds between LLDPDUs after ${DEFAULT_TOR_LLDP_TIMERS.fastCount} fast ones 1 s apart (default ${DEFAULT_TOR_LLDP_TIMERS.intervalMs / 1000}).`,
      min: 1,
      max: 3600,
      helpGroup: LLDP,
    }),
    ...torFaultFlags,
    seed: Flags.integer({
      summary: 'Seed of the fault dice, so a faulty run can be repeated (default 1).',
      min: 0,
      max: 0xffffffff,
    }),
    'min-tx-gap-ms': Flags.integer({
      summary: `Minimum gap between our ECPDUs (default ${LLDPAD_SAFE_TX_GAP_MS}: lldpad loses a VDPDU that follows another within 2 ms).`,
      min: 0,
      max: 1000,
    }),
    'expire-vsis': Flags.boolean({
      summary: 'Drop VSIs whose keep-alives stop, with an unsolicited De-Associate.',
      default: true,
      allowNo: true,
    }),
    'state-file': Flags.string({
      summary:
        'Keep the VSIs in this JSON file across restarts, as a switch does (loaded at start, rewritten on every change).',
    }),
    'strict-filter': Flags.boolean({
      summary:
        'Ignore, without an answer, a request for a known VSI whose filter (VIDs included) differs from the held one, as lldpad does.',
      default: true,
      allowNo: true,
    }),
    control: Flags.string({
      summary: `Control socket for run-time control (methods: ${TOR_CONTROL_METHODS.join(', ')}).`,
    }),
    'json-events': Flags.boolean({
      summary: 'Print each event (station, associations, rejections, …) as a JSON line on stdout; logs go to stderr.',
    }),
    'log-level': Flags.option({options: LEVELS, summary: 'Log level (default info).'})(),
    'log-format': Flags.option({
      options: FORMATS,
      summary: 'Log format (default auto: pretty on a terminal, else JSON lines).',
    })(),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(LabTor)
    const ifname = validateIfName(flags.interface)
    const mac = flags.mac !== undefined ? checkedMac(flags.mac) : interfaceMac(ifname)
    const systemName = printable('--system-name', flags['system-name'])
    const portId = printable('--port-id', flags['port-id'])
    const seed = flags.seed === undefined ? undefined : parseInteger('--seed', flags.seed, 0, 0xffffffff)
    const vlanPolicy =
      flags['vlan-pool'] !== undefined ? parseVlanPool(flags['vlan-pool']) : ({kind: 'segment'} as const)
    const faults = faultsFromFlags(flags)

    const level: LogLevel = flags['log-level'] ?? 'info'
    const format: LogFormat = flags['log-format'] ?? 'auto'
    // With --json-events stdout carries only events, one JSON object per line.
    const log = createLogger({
      level,
      format,
      name: 'tor-sim',
      ...(flags['json-events'] ? {destination: pino.destination({dest: 2, sync: true})} : {}),
    })
    const printEvent = flags['json-events']
      ? (event: object) => process.stdout.write(`${JSON.stringify({...event, time: new Date().toISOString()})}\n`)
      : undefined

    const sim = new TorSimulator({
      frames: new AfPacketFrameIO(),
      ifname,
      localMac: mac,
      identity: {...(systemName ? {systemName} : {}), ...(portId ? {portId} : {})},
      evb: {
        ...(flags.retries !== undefined ? {retries: flags.retries} : {}),
        ...(flags.rte !== undefined ? {rte: flags.rte} : {}),
        ...(flags.rwd !== undefined ? {rwd: flags.rwd} : {}),
        ...(flags.rka !== undefined ? {rka: flags.rka} : {}),
        rrCapable: flags.rrcap,
        groupId: flags.bgid,
      },
      ...(flags['tx-interval'] !== undefined ? {lldpTimers: {intervalMs: flags['tx-interval'] * 1000}} : {}),
      vlanPolicy,
      faults,
      ...(seed !== undefined ? {seed} : {}),
      requireStationEvb: !flags['ecp-before-evb'],
      ...(flags['min-tx-gap-ms'] !== undefined ? {minTxGapMs: flags['min-tx-gap-ms']} : {}),
      expireVsis: flags['expire-vsis'],
      strictFilter: flags['strict-filter'],
      ...(flags['state-file'] !== undefined ? {stateFile: flags['state-file']} : {}),
      log,
      onEvent: (event) => {
        logEvent(log, event)
        printEvent?.(event)
      },
    })
    // A signal from here on stops cleanly, with the shutdown LLDPDU, even before the control socket is up.
    const signalled = new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'))
      process.once('SIGINT', () => resolve('SIGINT'))
    })
    sim.start()
    const control = flags.control ? new ControlServer(flags.control, torControlHandlers(sim), log) : undefined
    try {
      await control?.listen()
    } catch (err) {
      sim.stop()
      throw err
    }
    const ready = {interface: ifname, mac, vlanPolicy, evb: sim.status().bridgeEvb, control: flags.control ?? null}
    log.info(ready, `ToR simulator running on ${ifname}`)
    printEvent?.({type: 'ready', ...ready})

    const signal = await signalled
    log.info({signal}, 'stopping: shutdown LLDPDU, then exit')
    sim.stop()
    printEvent?.({type: 'stopped', counters: sim.status().counters})
    await control?.close().catch((err: unknown) => log.warn({err: errorMessage(err)}, 'control socket close failed'))
    // Timers of the VDP engine may still be armed (a delayed response); we are done with all of them.
    process.exit(0)
  }
}

function logEvent(log: Logger, event: TorEvent): void {
  const {type, ...fields} = event
  switch (event.type) {
    case 'station':
      log.info(
        fields,
        event.change === 'gone' ? `station EVB TLV gone (${event.reason})` : `station EVB TLV ${event.change}`,
      )
      return
    case 'associated':
    case 'preassociated':
      log.info(fields, `VSI ${type} VLAN ${event.vids.join(',')}`)
      return
    case 'deassociated':
      log.info(
        fields,
        `VSI de-associated by the ${event.initiator === 'expired' ? 'keep-alive timeout' : event.initiator}`,
      )
      return
    case 'rejected':
      log.info(fields, `VSI request rejected with error ${event.code}`)
      return
    default:
      log.info(fields, type)
  }
}

function interfaceMac(ifname: string): string {
  let text: string
  try {
    text = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim()
  } catch {
    throw new TorOptionError(`no interface ${ifname} in this network namespace`, {ifname})
  }
  return checkedMac(text)
}

function checkedMac(text: string): string {
  let mac: string
  try {
    mac = normalizeMac(text)
  } catch {
    throw new TorOptionError(`--mac must be six colon-separated hex bytes, got ${JSON.stringify(text)}`, {text})
  }
  if (isGroupMac(parseMac(mac))) throw new TorOptionError(`--mac must be a unicast address, got ${mac}`, {text})
  return mac
}

/** LLDP strings from the command line: printable ASCII, so they show the same in every peer's output. */
function printable(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (!PRINTABLE.test(value))
    throw new TorOptionError(`${flag} must be 1–64 printable ASCII characters, got ${JSON.stringify(value)}`)
  return value
}
