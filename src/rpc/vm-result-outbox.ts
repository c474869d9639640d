import type {VmResult, VmResultReporter} from '../agent/result-sink.js'
import type {OutboxRepo} from '../store/outbox-repo.js'

/** update_vm_result's `result`, as the DFA server expects it (upstream dfa_agent.py; docs/rpc.md). */
const DFA_RESULT: Record<VmResult['outcome'], 'SUCCESS' | 'CREATE:FAIL' | 'DELETE:FAIL'> = {
  associated: 'SUCCESS',
  'association-failed': 'CREATE:FAIL',
  deassociated: 'SUCCESS',
  'deassociation-failed': 'DELETE:FAIL',
}

/** The controller hears every VM result as update_vm_result, through the outbox (delivered at least once). */
export class VmResultOutbox implements VmResultReporter {
  constructor(private readonly outbox: Pick<OutboxRepo, 'add'>) {}

  report(r: VmResult, now: number): void {
    this.outbox.add(
      'update_vm_result',
      {
        port_uuid: r.portUuid,
        result: DFA_RESULT[r.outcome],
        fail_reason: r.failReason,
        vdp_vlan: r.vdpVlan,
        local_vlan: r.localVlan,
      },
      now,
    )
  }
}
