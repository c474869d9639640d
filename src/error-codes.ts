/**
 * Every code a VdpAgentError may carry: a closed set, each with what it means and the exit code of the command
 * (CLI or daemon) it ends. `VdpAgentError.code` is typed by this table, so a code thrown anywhere is one of
 * these, and `exitCodeFor` is read from it: the error-to-exit-code mapping exists once. docs/errors.md lists
 * the set for operators and the README's exit codes (both checked against this table by test/error-codes.test.ts).
 *
 * A new code is one row here (in its module's group), plus a line in docs/errors.md.
 */

/** Exit codes (sysexits.h names where one fits); the systemd unit does not restart on 65, 77 or 78. */
export const EXIT = {
  /** Any other failure. */
  failure: 1,
  /** Bad usage or argument. */
  usage: 2,
  /** The daemon is not reachable (or its database, when it is down). */
  unreachable: 3,
  /** EX_DATAERR: corrupt data (the daemon's database). */
  dataError: 65,
  /** EX_NOPERM: no permission (the control socket, raw sockets). */
  noPermission: 77,
  /** EX_CONFIG: invalid configuration. */
  config: 78,
} as const

type Exit = (typeof EXIT)[keyof typeof EXIT]

interface CodeInfo {
  /** One line for an operator: what went wrong. */
  meaning: string
  exit: Exit
}

const F = EXIT.failure

export const ERROR_CODES = {
  // The CLI and the control socket (src/control, src/cli)
  BAD_ARGUMENT: {
    meaning: 'An argument or request parameter is invalid (the message names it and what was expected).',
    exit: EXIT.usage,
  },
  UNKNOWN_PORT: {meaning: 'No VM port with that UUID is recorded.', exit: EXIT.usage},
  DAEMON_UNREACHABLE: {meaning: 'No daemon answers on the control socket.', exit: EXIT.unreachable},
  DAEMON_TIMEOUT: {meaning: 'The daemon did not answer a request in time.', exit: EXIT.unreachable},
  NO_STATE: {meaning: 'The daemon is not running and its database cannot be read.', exit: EXIT.unreachable},
  DAEMON_ACCESS_DENIED: {
    meaning: 'This user may not use the control socket (root or its group only).',
    exit: EXIT.noPermission,
  },
  BAD_RESPONSE: {meaning: 'The daemon sent an unreadable answer or closed without one.', exit: F},
  BAD_REQUEST: {meaning: 'The daemon received a request that is not JSON, has no method, or nests too deep.', exit: F},
  UNKNOWN_METHOD: {meaning: 'The daemon has no such control method (a CLI newer than the daemon?).', exit: F},
  REQUEST_TOO_LARGE: {meaning: 'A control request exceeds the size one line may have.', exit: F},
  TOO_MANY_REQUESTS: {meaning: 'A control client sent too many requests without reading the answers.', exit: F},
  CLIENT_STALLED: {meaning: 'A control client left its answers unread too long and was dropped.', exit: F},
  INTERNAL: {meaning: 'An unexpected error in the daemon (a bug: its log has the details).', exit: F},
  NOT_READY: {meaning: 'The daemon is starting or stopping; try again.', exit: F},
  ALREADY_RUNNING: {meaning: 'Another daemon answers on the control socket.', exit: F},
  WAIT_TIMEOUT: {meaning: 'A VM port did not settle within the --wait timeout.', exit: F},
  UPLINK_NOT_APPLIED: {meaning: 'The daemon did not take the pinned uplink (the pin stays).', exit: F},

  // Configuration and files (src/config, src/uplink)
  CONFIG_INVALID: {
    meaning: 'The configuration file is invalid (file, line, section, key and the problem are named).',
    exit: EXIT.config,
  },
  DIRECTORY_UNUSABLE: {meaning: 'A directory the agent needs cannot be created or used.', exit: F},
  FILE_TOO_LARGE: {meaning: 'A file the agent reads is larger than it may be.', exit: F},
  NOT_REGULAR_FILE: {meaning: 'A path the agent reads is not a regular file.', exit: F},
  OVERRIDE_INVALID: {meaning: 'The uplink override file does not hold one valid interface name.', exit: F},
  OVERRIDE_WRITE_FAILED: {meaning: 'The uplink override file cannot be written.', exit: F},

  // The database (src/store)
  STORE_OPEN: {meaning: 'The database cannot be opened (often a full file system).', exit: F},
  STORE_READONLY: {meaning: 'The database is on a read-only file system.', exit: F},
  STORE_CORRUPT: {
    meaning: 'The database file is corrupt (the message says how to start afresh).',
    exit: EXIT.dataError,
  },
  STORE_VERSION: {
    meaning: 'The database schema is older than this version reads; start the daemon once to migrate it.',
    exit: F,
  },
  STORE_TOO_NEW: {meaning: 'The database schema is newer than this version understands.', exit: F},
  STORE_WRITE_FAILED: {meaning: 'A database write failed; the daemon keeps it in memory and retries.', exit: F},

  // Interfaces, frames and netlink (src/net)
  INVALID_IFNAME: {meaning: 'Not a valid Linux interface name.', exit: EXIT.usage},
  NO_SUCH_INTERFACE: {
    meaning: 'No interface of that name on this host: `uplink set` changed nothing (--force pins it anyway).',
    exit: EXIT.usage,
  },
  INVALID_MAC: {meaning: 'Not a valid MAC address.', exit: F},
  INVALID_ETHERTYPE: {meaning: 'Not a valid EtherType.', exit: F},
  NO_RAW_SOCKETS: {
    meaning: 'The daemon may not open raw (AF_PACKET) sockets: it needs CAP_NET_RAW.',
    exit: EXIT.noPermission,
  },
  AFPACKET_ADDON_UNAVAILABLE: {meaning: 'The native AF_PACKET addon is not built or does not load.', exit: F},
  FRAME_IO: {meaning: 'A raw-socket system call failed (the syscall and errno are named).', exit: F},
  FRAME_TOO_SHORT: {meaning: 'A frame to send is shorter than an Ethernet header.', exit: F},
  IFNAME_IN_USE: {meaning: 'An in-memory port of that name is already attached (tests).', exit: F},
  LINK_MONITOR_STATE: {meaning: 'The link monitor was started twice.', exit: F},
  NOT_A_BOND: {meaning: 'The interface is not a bond.', exit: F},
  NETLINK_DECODE: {meaning: 'A malformed rtnetlink message.', exit: F},
  NETLINK_ALREADY_SUBSCRIBED: {meaning: 'The rtnetlink link source was subscribed twice.', exit: F},
  NETLINK_DUMP_FAILED: {meaning: 'The kernel refused a link dump.', exit: F},
  NETLINK_DUMP_TIMEOUT: {meaning: 'The kernel did not finish a link dump in time.', exit: F},

  // LLDP (src/lldp) and captures (src/pcap)
  LLDP_DECODE: {meaning: 'An LLDPDU breaks an 802.1AB rule (the rule and offset are named).', exit: F},
  LLDP_ENCODE: {meaning: 'A value cannot be encoded in an LLDPDU.', exit: F},
  PCAP_FORMAT: {meaning: 'The file is not a readable pcap or pcapng capture.', exit: EXIT.usage},

  // ECP and VDP (src/vdp)
  ECP_TRUNCATED: {meaning: 'An ECP frame is shorter than its header.', exit: F},
  ECP_BAD_ETHERTYPE: {meaning: 'A frame given to the ECP decoder is not ECP (EtherType 0x8940).', exit: F},
  ECP_ULPDU_TOO_LARGE: {meaning: 'A ULPDU does not fit one ECPDU.', exit: F},
  ECP_ENCODE_INVALID: {meaning: 'A value cannot be encoded in an ECPDU.', exit: F},
  ECP_BAD_OPTION: {meaning: 'An ECP transport option is out of range.', exit: F},
  ECP_BAD_SUBTYPE: {meaning: 'An ECP subtype is out of range (1-1023).', exit: F},
  ECP_QUEUE_FULL: {meaning: 'The ECP transmit queue is full.', exit: F},
  ECP_CLOSED: {meaning: 'The ECP transport is closed.', exit: F},
  ECP_NO_ACK: {meaning: 'An ECPDU was sent 1 + R times without an acknowledgement.', exit: F},
  EVB_PARAM_RANGE: {meaning: 'An EVB value (R, RTE, RWD, RKA) is out of the range the EVB TLV carries.', exit: F},
  VDP_TLV_TRUNCATED: {meaning: 'A VDPDU TLV runs past the end of the frame.', exit: F},
  VDP_TLV_LENGTH: {meaning: 'A VDPDU TLV has the wrong length.', exit: F},
  VDP_NO_MANAGER_ID: {meaning: 'A VDPDU does not start with a VSI Manager ID TLV.', exit: F},
  VDP_BAD_FIELD: {meaning: 'A VDPDU field has a value the standard does not allow.', exit: F},
  VDP_BAD_FORMAT: {meaning: 'A VSIID or filter format VDP does not define.', exit: F},
  VDP_ENCODE_INVALID: {meaning: 'A value cannot be encoded in a VDPDU.', exit: F},
  VSI_INVALID_REQUEST: {meaning: 'A VSI request the station refuses before sending (bad VID, no filter...).', exit: F},
  VSI_INVALID_TRANSITION: {meaning: 'A VSI cannot go back to that request from its state (as in lldpad).', exit: F},
  VSI_TOO_LARGE: {meaning: 'A VSI request needs more octets than one ECPDU holds.', exit: F},
  VSI_TABLE_FULL: {meaning: 'The VDP station holds as many VSIs as it may.', exit: F},
  VSI_UNKNOWN: {meaning: 'The VDP station has no such VSI.', exit: F},
  STATION_CLOSED: {meaning: 'The VDP station is closed.', exit: F},

  // Metrics (src/metrics)
  METRICS_LISTEN_INVALID: {
    meaning: 'The [metrics] listen value is not off, on, PORT, :PORT, HOST:PORT or [IPv6]:PORT.',
    exit: F,
  },
  METRICS_LISTEN_FAILED: {
    meaning: 'The metrics endpoint cannot listen on its address (the daemon runs on without it).',
    exit: F,
  },

  // The dataplane: Open vSwitch (src/dataplane)
  DATAPLANE_BAD_VALUE: {
    meaning: 'A value for a flow (VLAN, port number, bridge name) is out of range or malformed.',
    exit: F,
  },
  OVS_COMMAND: {
    meaning: 'An Open vSwitch command (ovs-vsctl, ovs-ofctl) failed (the command and its message are given).',
    exit: F,
  },
  OVSDB: {meaning: 'The OVSDB monitor failed (ovsdb-server unreachable or an unreadable update).', exit: F},
  OVSDB_TIMEOUT: {meaning: 'OVSDB did not answer in time.', exit: F},

  // The controller link: oslo.messaging over AMQP (src/rpc)
  RPC_BAD_URL: {meaning: 'The [rpc] url is not a valid rabbit:// (or amqp://) transport URL.', exit: EXIT.config},
  RPC_MALFORMED: {meaning: 'A message from the broker is not a valid oslo.messaging envelope.', exit: F},
  RPC_BAD_PAYLOAD: {
    meaning: 'A message from the controller has arguments of the wrong shape (answered as a ValueError).',
    exit: F,
  },
  PY_LITERAL: {meaning: 'A Python-literal payload from the controller cannot be parsed (never evaluated).', exit: F},
  RPC_NOT_SUPPORTED: {
    meaning: 'The controller called a method vdp-agent does not implement (answered as a NotImplementedError).',
    exit: F,
  },
  RPC_REMOTE: {meaning: 'The controller answered a call with an exception.', exit: F},
  RPC_TIMEOUT: {meaning: 'The controller did not answer a call in time (it may still have run it).', exit: F},
  RPC_NO_ROUTE: {meaning: 'The broker could not route a call: no server listens on its topic yet.', exit: F},
  RPC_CLOSED: {meaning: 'The controller link closed while a call waited for its reply.', exit: F},

  // The agent (src/agent)
  QUEUE_FULL: {meaning: 'The event queue is full; retry later.', exit: F},
  TASK_EXISTS: {meaning: 'A periodic task of that name is already scheduled.', exit: F},
  TASK_UNKNOWN: {meaning: 'No periodic task of that name is scheduled.', exit: F},
  TASK_PERIOD: {meaning: "A periodic task's period is not a positive number of milliseconds.", exit: F},
  TASK_JITTER: {meaning: "A periodic task's jitter is outside [0, 1).", exit: F},

  // The lab: ToR simulator, namespaces, peers (src/lab)
  LAB_NO_PYTHON: {meaning: 'python3 with oslo.messaging is not installed (the DFA server stand-in needs it).', exit: F},
  LAB_STANDIN: {meaning: 'The DFA server stand-in failed to start or reported an error.', exit: F},
  LAB_NO_RABBITMQ: {meaning: 'rabbitmq-server is not installed (the controller tests and demo need it).', exit: F},
  LAB_RABBITMQ_START: {meaning: 'The private RabbitMQ did not start.', exit: F},
  LAB_RABBITMQCTL: {meaning: 'A rabbitmqctl command failed.', exit: F},
  LAB_BAD_ADDRESS: {meaning: 'Lab: an invalid IP address.', exit: F},
  LAB_BAD_ARGV: {meaning: 'Lab: a command argument that is not allowed.', exit: F},
  LAB_BAD_CHANGE: {meaning: 'Lab: contradictory link changes.', exit: F},
  LAB_BAD_CONFIG: {meaning: 'Lab: an invalid peer configuration.', exit: F},
  LAB_BAD_HOSTNAME: {meaning: 'Lab: an invalid host name.', exit: F},
  LAB_BAD_MAC: {meaning: 'Lab: an invalid MAC address.', exit: F},
  LAB_BAD_MODE: {meaning: 'Lab: an invalid mode.', exit: F},
  LAB_BAD_ROLE: {meaning: 'Lab: an invalid role.', exit: F},
  LAB_COMMAND_FAILED: {meaning: 'Lab: an external command failed (argv, exit code and output are given).', exit: F},
  LAB_TIMEOUT: {meaning: 'Lab: timed out waiting for something.', exit: F},
  LAB_DESTROYED: {meaning: 'Lab: the lab was already destroyed.', exit: F},
  LAB_DUPLICATE_NS: {meaning: 'Lab: a namespace of that name exists.', exit: F},
  LAB_FOREIGN_NS: {meaning: 'Lab: the namespace is not one of this lab.', exit: F},
  LAB_NO_CLI: {meaning: 'Lab: bin/run.js was not found.', exit: F},
  LAB_PEER_EXITED: {meaning: 'Lab: a peer process (lldpd, lldpad, the ToR simulator) exited.', exit: F},
  LAB_SPAWN_FAILED: {meaning: 'Lab: a process could not be started.', exit: F},
  TOR_NOT_RUNNING: {meaning: 'Lab: the ToR simulator is not running.', exit: F},
  TOR_STATE_FILE: {meaning: 'Lab: the ToR simulator cannot read its state file.', exit: F},
  VLAN_INVALID: {meaning: 'Lab: the simulated bridge was given an invalid VLAN.', exit: F},
  VLAN_POOL_INVALID: {meaning: 'Lab: the simulated bridge was given an invalid VLAN pool.', exit: F},
  AGENT_EXITED: {meaning: 'Test helper: the daemon under test exited.', exit: F},
  AGENT_NO_SOCKET: {meaning: 'Test helper: the daemon under test has no control socket.', exit: F},
  AGENT_START_TIMEOUT: {meaning: 'Test helper: the daemon under test did not start in time.', exit: F},
  AGENT_WAIT_TIMEOUT: {meaning: 'Test helper: the daemon under test did not reach a state in time.', exit: F},
  DIST_STALE: {meaning: 'Test helper: dist/ is missing or older than the sources; build first.', exit: F},
  PROBE_EXITED: {meaning: 'Test helper: a probe process exited.', exit: F},
  PROBE_NO_ROOT: {meaning: 'Test helper: a probe needs root.', exit: F},
  PROBE_NO_STDIO: {meaning: 'Test helper: a probe process has no stdio.', exit: F},
  PROBE_TIMEOUT: {meaning: 'Test helper: a probe did not answer in time.', exit: F},
  PROBE_REQUEST_FAILED: {meaning: 'Test helper: a probe refused a request without saying why.', exit: F},
  PROBE_BAD_JSON: {meaning: 'Test helper: a probe received a line that is not JSON.', exit: F},
  PROBE_BAD_OP: {meaning: 'Test helper: a probe was asked an operation it does not know.', exit: F},
  PROBE_DUPLICATE: {meaning: 'Test helper: a probe socket of that id is already open.', exit: F},
  PROBE_NO_SOCKET: {meaning: 'Test helper: a probe has no socket of that id.', exit: F},
} as const satisfies Record<string, CodeInfo>

/** A code of the closed set. */
export type ErrorCode = keyof typeof ERROR_CODES

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code)
}

/** The exit code for an error code; a code outside the set (from a newer daemon) is a plain failure, 1. */
export function exitCodeFor(code: string): number {
  return isErrorCode(code) ? ERROR_CODES[code].exit : EXIT.failure
}
