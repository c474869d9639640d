import {VdpAgentError} from '../errors.js'
import {ETHERTYPE_LLDP} from '../core/ethernet.js'
import {type FrameIO, FrameIoError} from './frames.js'

/** sysexits.h EX_NOPERM: the daemon lacks a permission a restart cannot give it. */
export const EXIT_NO_PERMISSION = 77

/**
 * Check at start-up that raw frames can be used at all: open (and close at once) an AF_PACKET socket on the
 * loopback interface, which every network namespace has. Without CAP_NET_RAW (EPERM/EACCES) the daemon
 * could neither hear LLDP nor speak VDP, and would otherwise look healthy while waiting forever for a
 * neighbour; it fails loudly instead. Throws VdpAgentError code NO_RAW_SOCKETS. Other errors (a missing
 * addon, for example) are thrown as they are.
 */
export function assertRawSocketsAllowed(frames: FrameIO): void {
  try {
    frames.open('lo', ETHERTYPE_LLDP, {onFrame: () => {}}).close()
  } catch (err) {
    if (err instanceof FrameIoError && (err.sysCode === 'EPERM' || err.sysCode === 'EACCES')) {
      throw new VdpAgentError(
        'NO_RAW_SOCKETS',
        `cannot open raw (AF_PACKET) sockets (${err.sysCode}: ${err.message}). The daemon needs CAP_NET_RAW (and CAP_NET_ADMIN) to hear LLDP and speak VDP: run it as root, or through the packaged systemd unit (AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN)`,
        {sysCode: err.sysCode},
      )
    }
    throw err
  }
}
