/**
 * The seam between LinkMonitor and the kernel: rtnetlink (rtnetlink-source.ts) in production, a fake in unit
 * tests. A module of its own so that neither side imports the other.
 */
import type {VdpAgentError} from '../errors.js'
import type {RtLinkMessage} from './rtnetlink.js'

/** Where LinkMonitor's messages come from: rtnetlink in production, a fake in unit tests. */
export interface LinkMessageSource {
  /** Starts delivering RTNLGRP_LINK notifications to `sink`. */
  subscribe(sink: LinkMessageSink): void
  /** Every link now (RTM_GETLINK dump). */
  dump(): Promise<RtLinkMessage[]>
  close(): void
}

export interface LinkMessageSink {
  messages(messages: RtLinkMessage[]): void
  /** Notifications were lost (ENOBUFS). */
  overrun(): void
  /** A malformed message was skipped. */
  warning(err: VdpAgentError): void
  /** The source failed. */
  error(err: Error): void
}
