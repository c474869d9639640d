import {execFile} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import {CHILD_ENV, CLI} from '../../src/lab/agent-runner.js'
import {listNamespaces} from '../../src/lab/netns.js'

describe('the README main job: vdp-agent lab demo', () => {
  it('finds the uplink, associates the VM ports with the VLANs of their segments, and leaves nothing behind', async () => {
    let demoPid = 0
    const {code, stdout} = await new Promise<{code: number; stdout: string}>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, 'lab', 'demo'],
        {env: CHILD_ENV, timeout: 120_000},
        (err, stdout) => resolve({code: err ? 1 : 0, stdout}),
      )
      demoPid = child.pid ?? 0
    })
    expect(code, stdout).toBe(0)
    expect(stdout).toMatch(/uplink found: eth1 \(EVB bridge leaf-101 Ethernet1\/7 on eth1\)/)
    expect(stdout).toMatch(/9e01: associated VLAN 3628 on eth1/)
    expect(stdout).toMatch(/9e03: associated VLAN 1350 on eth1/)
    expect(stdout).toMatch(/9e03: de-associated/)
    // issue 12: the VM namespace reaches the remote host across the simulated switch on the VLAN it assigned
    expect(stdout).toMatch(/web-1 pings 198\.51\.100\.99 before any association: no answer/)
    expect(stdout).toMatch(
      /web-1 -> 198\.51\.100\.99: answered across the switch on VLAN 3628 \(local VLAN 1 on br-int\)/,
    )
    expect(stdout).toMatch(/installed \(6\):/)
    expect(stdout).toMatch(/Done: no namespace, link or process of the demo is left\./)
    // the demo's own namespaces (vdpt-<id>-<its pid>-<role>); other test files may run labs of their own meanwhile
    expect(demoPid).toBeGreaterThan(0)
    expect((await listNamespaces()).filter((ns) => ns.includes(`-${demoPid}-`))).toEqual([])
  })
})
