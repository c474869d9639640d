import {execFile} from 'node:child_process'

import {describe, expect, it} from 'vitest'

import {CHILD_ENV, CLI} from '../../src/lab/agent-runner.js'
import {listNamespaces} from '../../src/lab/netns.js'

describe('make demo-controller: vdp-agent lab demo --controller', () => {
  it('the stand-in server pushes the VM list, the results arrive at the server, nothing is left behind', async () => {
    let pid = 0
    const {code, stdout} = await new Promise<{code: number; stdout: string}>((resolve) => {
      const child = execFile(
        process.execPath,
        [CLI, 'lab', 'demo', '--controller'],
        {env: CHILD_ENV, timeout: 180_000},
        (err, stdout) => resolve({code: err ? 1 : 0, stdout}),
      )
      pid = child.pid ?? 0
    })
    expect(code, stdout).toBe(0)
    expect(stdout).toMatch(
      /server\| .*heartbeat +agent=compute-demo when="[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"/,
    )
    expect(stdout).toMatch(/server\| .*save_uplink +uplink="eth1" .* -> true/)
    expect(stdout).toMatch(/server\| .*update_vm_result +port=9e01 SUCCESS vdp_vlan=3628/)
    expect(stdout).toMatch(/server\| .*update_vm_result +port=9e03 SUCCESS vdp_vlan=1350/)
    expect(stdout).toMatch(/amqp:\/\/127\.0\.0\.1:\d+\/ +connected/)
    expect(stdout).not.toContain('guest:guest')
    expect(stdout).toMatch(/Done: no namespace, link or process of the demo is left\./)
    // the demo's namespaces carry its PID (other labs may come and go meanwhile)
    expect((await listNamespaces()).filter((ns) => ns.includes(`-${pid}-`))).toEqual([])
  }, 240_000)
})
