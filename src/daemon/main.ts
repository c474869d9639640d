import {ControlServer} from '../control/server.js'
import {systemClock} from '../core/clock.js'
import {createDataplane} from '../dataplane/index.js'
import {AfPacketFrameIO} from '../net/frames.js'
import {LinkMonitor} from '../net/links.js'
import {assertRawSocketsAllowed} from '../net/raw-capability.js'
import {ControllerLink} from '../rpc/controller-link.js'
import {Store, databasePath} from '../store/store.js'
import {VERSION} from '../version.js'
import {controlHandlers} from './control-handlers.js'
import {Daemon, type DaemonOptions} from './daemon.js'

/**
 * The daemon as `vdp-agent daemon` runs it: the system's edges (the control socket, AF_PACKET frames,
 * rtnetlink links, the SQLite file, the configured dataplane and controller) around the `Daemon`. The order
 * of `start` is what keeps a host safe: the control socket is claimed first (a second daemon fails before
 * it touches the database), raw sockets are probed (exit 77 without CAP_NET_RAW, rather than wait forever for
 * a neighbour), then the database opens. `stop` closes the socket first, so no request lands mid-shutdown.
 */
export class DaemonProcess {
  private control?: ControlServer
  private store?: Store
  private daemon?: Daemon
  private stopping?: Promise<void>

  constructor(private readonly opts: DaemonOptions) {}

  async start(): Promise<void> {
    const cfg = this.opts.loaded.config
    this.control = new ControlServer(cfg.general.control_socket, undefined, this.opts.log)
    await this.control.listen()
    const frames = new AfPacketFrameIO()
    assertRawSocketsAllowed(frames)
    this.store = Store.open(databasePath(cfg.general.state_dir))
    this.daemon = new Daemon(this.opts, {
      clock: systemClock,
      store: this.store,
      frames,
      links: new LinkMonitor(),
      dataplane: createDataplane(cfg.dataplane, this.opts.log, systemClock),
      ...(cfg.rpc.transport === 'amqp' ? {controller: (deps) => new ControllerLink({...deps, version: VERSION})} : {}),
    })
    await this.daemon.start()
    this.control.attach(controlHandlers(this.daemon))
  }

  /** SIGHUP: see Daemon.reload. */
  reload(): void {
    this.daemon?.reload()
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown(): Promise<void> {
    this.control?.attach(undefined)
    await this.control?.close()
    await this.daemon?.stop()
    const store = this.store
    if (store) {
      store.close() // one last try at the kept writes
      const lost = store.health().pending
      if (lost > 0)
        this.opts.log.error(
          {db: store.path, lost},
          'database writes were still failing at stop: these changes are lost; the next start re-learns neighbours and the uplink, and re-drives VM ports from their recorded desired state',
        )
    }
    this.opts.log.info('vdp-agent daemon stopped')
  }
}
