import {parsePortUuid} from '../agent/vm-port.js'
import type {DaemonHandlers} from '../control/protocol.js'
import type {ControlHandler} from '../control/server.js'
import type {UplinkShowData} from '../control/views.js'
import {VdpAgentError} from '../errors.js'
import {validateIfName} from '../net/ifname.js'
import {parseJournalQuery} from '../store/journal-repo.js'
import type {Daemon} from './daemon.js'

/**
 * The daemon's answers on the control socket, one handler per method of `ControlMethods`
 * (src/control/protocol.ts): the compiler checks each result against the CLI's expectation. Params arrive as
 * untrusted JSON and are validated here or by the intake.
 */
export function controlHandlers(daemon: Daemon): Record<string, ControlHandler> {
  const {store, lldp, uplink, vsiManager, intake} = daemon
  const uplinkShow = (): UplinkShowData => ({
    ...daemon.status().uplink,
    mode: daemon.currentConfig.uplink.mode,
    override: {path: daemon.currentConfig.general.uplink_override_file, ...uplink.override},
    lldp: {listening: lldp.listening(), transmitting: lldp.transmitting()},
  })
  const handlers: DaemonHandlers = {
    status: () => daemon.status(),
    'uplink.show': uplinkShow,
    // `uplink set`/`clear`: re-read the override and decide now; for {ifname}, whether that interface exists and
    // has carrier here, so the CLI can say whether the uplink really became that port.
    'uplink.reevaluate': (params) => {
      uplink.overrideChanged('requested by the CLI')
      const asked = (params as {ifname?: unknown} | null | undefined)?.ifname
      if (typeof asked !== 'string') return uplinkShow()
      return {...uplinkShow(), requested: {ifname: asked, ...daemon.link(asked)}}
    },
    'link.get': (params) => {
      const raw = (params as {ifname?: unknown} | null | undefined)?.ifname
      if (typeof raw !== 'string') throw new VdpAgentError('BAD_ARGUMENT', 'link.get needs {ifname: string}')
      const ifname = validateIfName(raw)
      return {ifname, ...daemon.link(ifname)}
    },
    // with {frames: true} each neighbour carries the hex of its last LLDP frame (`neighbors -v`)
    neighbors: (params) => {
      const list = store.neighbors.list()
      if ((params as {frames?: unknown} | undefined)?.frames !== true) return list
      return list.map((n) => ({...n, frame: lldp.lastFrame(n.ifname, n.destAddress, n.srcMac)?.toString('hex')}))
    },
    'lldp.stats': () => ({
      listening: lldp.listening(),
      transmitting: lldp.transmitting(),
      interfaces: lldp.interfaceStats(),
    }),
    'vsi.list': () => store.vsis.list(),
    journal: (params) => store.journal.list(parseJournalQuery(params)),
    'vsi.get': (params) => store.vsis.get(parsePortUuid(params)) ?? null,
    'vm.up': (params) => intake.up(params),
    'vm.down': (params) => intake.down(params),
    'vm.bulk': (params) => intake.bulk(params),
    'vdp.stats': () => ({
      uplink: vsiManager.uplink ?? null,
      station: null,
      transport: null,
      ...vsiManager.counters(),
      totals: vsiManager.totals(),
    }),
    'config.reload': () => daemon.reload(),
    'dataplane.flows': () => daemon.dataplane.view(),
    'dataplane.audit': () => daemon.dataplane.audit('requested by the CLI'),
    'rpc.status': () => daemon.controller?.status() ?? {transport: 'local'},
  }
  return handlers
}
