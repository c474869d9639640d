import {describe, expect, expectTypeOf, it} from 'vitest'

import type {StatusView} from '../../src/control/views.js'
import {callDaemon} from '../../src/control/client.js'
import type {ControlMethod, ControlResult, DaemonHandlers} from '../../src/control/protocol.js'
import type {VsiRecord} from '../../src/model/vsi.js'

// These checks run when the tests are type-checked (`make lint`): a wrong method, params or result fails there.
describe('ControlMethods: the daemon and the CLI compile against one map', () => {
  it('callDaemon takes only known methods and their params, and answers their result type', () => {
    expectTypeOf(callDaemon<'vsi.list'>).returns.toEqualTypeOf<Promise<VsiRecord[]>>()
    expectTypeOf(callDaemon<'vsi.get'>).returns.toEqualTypeOf<Promise<VsiRecord | null>>()
    expectTypeOf(callDaemon<'status'>).returns.toEqualTypeOf<Promise<StatusView>>()
    const unused = (path: string) => {
      // @ts-expect-error: no such method
      void callDaemon(path, 'vsi.lst')
      // @ts-expect-error: vsi.get needs {portUuid}
      void callDaemon(path, 'vsi.get', {port: 'x'})
      // @ts-expect-error: status answers a StatusView, not a VSI list
      const wrong: Promise<VsiRecord[]> = callDaemon(path, 'status')
      return wrong
    }
    expect(typeof unused).toBe('function')
  })

  it("the daemon's handler table needs every method, each answering its result", () => {
    expectTypeOf<keyof DaemonHandlers>().toEqualTypeOf<ControlMethod>()
    expectTypeOf<ReturnType<DaemonHandlers['vsi.list']>>().toEqualTypeOf<VsiRecord[] | Promise<VsiRecord[]>>()
    expectTypeOf<ControlResult<'vm.down'>>().toMatchTypeOf<VsiRecord>()
    // @ts-expect-error: a table without 'status' is not a DaemonHandlers
    const partial: DaemonHandlers = {'vsi.list': () => []}
    expect(partial).toBeDefined()
  })
})
