/**
 * Does a VSI TLV from the bridge answer our request? As lldpad decides (docs/wire-notes.md §Response matching),
 * except for VIDs:
 *
 *   manager ID, type ID, type version, VSIID (format and value), filter format: must be equal, otherwise the
 *   TLV is about some other VSI and is ignored (lldpad's lookup key).
 *   entry count, and per entry the MAC and group ID: must be equal, otherwise the response is broken and the
 *   VSI fails with error 5, as in lldpad.
 *   VIDs: not compared. Deliberate deviation: lldpad fails the VSI when a non-zero VID it holds comes back
 *   different; we adopt the bridge's VID and report a VLAN change (docs/vdp.md).
 */
import type {VsiTlvGroup} from './vdp-codec.js'
import type {NormalizedRequest} from './vsi-request.js'
import {vsiidKey} from './vsiid.js'

export type MatchVerdict =
  {readonly kind: 'match'} | {readonly kind: 'other-vsi'} | {readonly kind: 'filter-mismatch'; readonly what: string}

export function matchResponse(request: NormalizedRequest, got: VsiTlvGroup): MatchVerdict {
  const tlv = got.vsi
  if (
    !got.managerId.equals(request.managerId) ||
    tlv.typeId !== request.typeId ||
    tlv.typeVersion !== request.typeVersion ||
    vsiidKey(tlv.vsiid) !== request.key ||
    tlv.filter.format !== request.filter.format
  ) {
    return {kind: 'other-vsi'}
  }
  const mine = request.filter.entries
  const theirs = tlv.filter.entries
  if (mine.length !== theirs.length) {
    return {kind: 'filter-mismatch', what: `${theirs.length} filter entries instead of ${mine.length}`}
  }
  for (let i = 0; i < mine.length; i++) {
    if (mine[i].mac !== theirs[i].mac) {
      return {kind: 'filter-mismatch', what: `entry ${i + 1} MAC ${theirs[i].mac} instead of ${mine[i].mac}`}
    }
    if (mine[i].groupId !== theirs[i].groupId) {
      return {kind: 'filter-mismatch', what: `entry ${i + 1} group ${theirs[i].groupId} instead of ${mine[i].groupId}`}
    }
  }
  return {kind: 'match'}
}
