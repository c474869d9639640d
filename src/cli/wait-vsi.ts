import {callDaemon} from '../control/client.js'
import {VdpAgentError} from '../errors.js'
import type {VsiRecord} from '../model/vsi.js'

/** Poll the daemon until the port reaches a settled state ('gone' once a down completed). */
export async function waitForVsi(
  socket: string,
  portUuid: string,
  until: (v: VsiRecord | null) => boolean,
  timeoutMs: number,
): Promise<VsiRecord | null> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await callDaemon(socket, 'vsi.get', {portUuid})
    if (until(v)) return v
    if (Date.now() > deadline)
      throw new VdpAgentError(
        'WAIT_TIMEOUT',
        `port ${portUuid} did not settle within ${timeoutMs / 1000} s (state ${v?.state ?? 'gone'}${v?.failReason ? `: ${v.failReason}` : ''})`,
      )
    await new Promise((r) => setTimeout(r, 50))
  }
}
