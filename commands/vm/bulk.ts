import {closeSync, fstatSync, openSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base-command.js'
import {callDaemon} from '../../src/control/client.js'
import {MAX_LINE_BYTES, type VmBulkRequest, type VmBulkResult} from '../../src/control/protocol.js'
import {fileKind, readBounded} from '../../src/config/regular-file.js'
import {VdpAgentError} from '../../src/errors.js'

export default class VmBulk extends BaseCommand {
  static override summary = 'Send a bulk VM list (JSON {"up": [...], "down": [...]}) in one request.'
  static override description = `Like the controller's bulk VM event: every port is recorded in one transaction and associated in
one batch, so many VSIs share ECPDUs. Each "up" item has portUuid, mac, netUuid, segmentationId and
optionally vmName, vmUuid, ipv4, vlan; "down" lists port UUIDs. FILE "-" reads standard input.`
  static override args = {file: Args.string({required: true, description: 'JSON file, or - for standard input.'})}
  static override flags = {
    timeout: Flags.integer({summary: 'Seconds to wait for the daemon to record the list.', default: 60}),
  }
  static override examples = ['<%= config.bin %> vm bulk ports.json']

  async run(): Promise<VmBulkResult> {
    const {args, flags} = await this.parse(VmBulk)
    const {config} = this.agentConfig(flags.config)
    let list: unknown
    try {
      list = JSON.parse(readBulkInput(args.file))
    } catch (err) {
      if (err instanceof VdpAgentError) throw err
      throw new VdpAgentError('BAD_ARGUMENT', `${args.file}: not a readable JSON file (${(err as Error).message})`)
    }
    // The file goes as it is: the daemon validates it (parseVmBulk) and answers BAD_ARGUMENT naming what is wrong.
    const result = await callDaemon(
      config.general.control_socket,
      'vm.bulk',
      list as VmBulkRequest,
      flags.timeout * 1000,
    )
    this.log(
      `recorded ${result.up} up and ${result.down} down; ${result.queued} queued for the switch (see vdp-agent vsi list)`,
    )
    return result
  }
}

/**
 * The list, read with a bound: it travels as one control-socket request line, so more than MAX_LINE_BYTES
 * cannot be sent anyway. A regular file, a pipe or standard input; a device or directory is refused (reading
 * /dev/zero would never end).
 */
function readBulkInput(file: string): string {
  const fd = file === '-' ? 0 : openSync(file, 'r')
  try {
    const st = fstatSync(fd)
    if (!st.isFile() && !st.isFIFO() && !st.isSocket() && !(file === '-' && st.isCharacterDevice())) {
      throw new VdpAgentError(
        'BAD_ARGUMENT',
        `${file} is ${fileKind(st)}: give a JSON file, a pipe or - for standard input`,
      )
    }
    const tooLarge = () =>
      new VdpAgentError(
        'BAD_ARGUMENT',
        `${file} is larger than ${MAX_LINE_BYTES} bytes, more than one request may carry: split the list`,
      )
    return readBounded(fd, MAX_LINE_BYTES, tooLarge).toString('utf8')
  } finally {
    if (fd !== 0) closeSync(fd)
  }
}
