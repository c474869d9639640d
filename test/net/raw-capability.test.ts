import {describe, expect, it} from 'vitest'

import {FrameIoError, type FrameIO, MemoryFrameIO, VirtualWire} from '../../src/net/frames.js'
import {assertRawSocketsAllowed} from '../../src/net/raw-capability.js'

/** A FrameIO whose open() fails as the kernel does for a process without CAP_NET_RAW. */
const deniedIo = (sysCode: string): FrameIO => ({
  open: (ifname) => {
    throw new FrameIoError(ifname, 'socket', sysCode, 1, `socket ${ifname}: operation not permitted`)
  },
})

describe('raw-socket probe at start-up (issue 10 item 9)', () => {
  it('EPERM becomes NO_RAW_SOCKETS, saying what is missing and how to run the daemon', () => {
    expect(() => assertRawSocketsAllowed(deniedIo('EPERM'))).toThrow(
      expect.objectContaining({
        code: 'NO_RAW_SOCKETS',
        message: expect.stringMatching(
          /^cannot open raw \(AF_PACKET\) sockets \(EPERM: socket lo: operation not permitted\)\. The daemon needs CAP_NET_RAW/,
        ),
      }),
    )
  })

  it('other failures are passed on as they are', () => {
    expect(() => assertRawSocketsAllowed(deniedIo('ENODEV'))).toThrow(
      expect.objectContaining({code: 'FRAME_IO', sysCode: 'ENODEV'}),
    )
  })

  it('a FrameIO that opens is left with nothing open', () => {
    const io = new MemoryFrameIO('host')
    new VirtualWire().attach(io, 'lo', {mac: '02:00:00:00:00:01'})
    expect(() => assertRawSocketsAllowed(io)).not.toThrow()
  })
})
