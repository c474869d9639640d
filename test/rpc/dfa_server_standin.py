#!/usr/bin/python3
"""A stand-in for the DFA server of networking-cisco, on the real oslo.messaging, for vdp-agent's tests.

It behaves like the upstream server (dfa_server.py RpcCallBacks and its event handlers):
  heartbeat             records the agent (parses `when` with time.ctime()'s format, as upstream)
  request_uplink_info   returns 0, then sends send_msg_to_agent(type 1002) with the uplink it stored
  save_uplink           stores {uplink, veth_intf}, returns True; a non-empty uplink makes it send the
                        agent's VM list as one bulk send_vm_info (str(list), as upstream)
  update_vm_result      records the result, returns 0
  save_topo_disc_params parses `heartbeat` as upstream, returns True

Every request is appended to the record file as one JSON line. Commands arrive on stdin, one JSON object
a line, and are answered on stdout as one JSON line with the same "id":
  {"op": "set_vms", "host": h, "vms": [vm_info dicts]}
  {"op": "call", "host": h, "method": m, "msg": text, "ctxt": {...}, "timeout": s}   (server -> agent)
  {"op": "fault", "method": m, "mode": "raise"|"sleep"|"false"|"none"|"nobulk", "seconds": s, "count": n}
                         (nobulk: save_uplink is stored but no bulk VM list follows, the upstream race)
  {"op": "ping"}
Options: --pre92-replies publishes replies to a `reply_<uuid>` direct exchange as oslo.messaging < 9.2 did.
"""
import argparse
import json
import os
import sys
import threading
import time

import oslo_messaging
from oslo_config import cfg

LOCK = threading.Lock()
OUT_LOCK = threading.Lock()


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


class Server:
    def __init__(self, transport, record_path, react, timeout):
        self.transport = transport
        self.record_path = record_path
        self.react = react
        self.timeout = timeout
        self.agents = {}       # host -> {"heartbeat", "configurations"}
        self.vms = {}          # host -> [vm_info]
        self.faults = {}       # method -> {"mode", "seconds", "count"}
        self.clients = {}

    def record(self, method, ctxt, kwargs, **extra):
        line = {"t": time.time(), "method": method, "ctxt": ctxt, "kwargs": kwargs}
        line.update(extra)
        with LOCK:
            with open(self.record_path, "a") as f:
                f.write(json.dumps(line) + "\n")

    def client(self, host):
        with LOCK:
            if host not in self.clients:
                target = oslo_messaging.Target(exchange="dfa", topic="dfa_agent_" + host)
                self.clients[host] = oslo_messaging.get_rpc_client(self.transport, target) \
                    if hasattr(oslo_messaging, "get_rpc_client") else oslo_messaging.RPCClient(self.transport, target)
            return self.clients[host]

    def fault(self, method):
        with LOCK:
            f = self.faults.get(method)
            if not f or f["count"] == 0:
                return None
            f["count"] -= 1
            return dict(f)

    def call_agent(self, host, method, ctxt, msg, timeout=None):
        start = time.time()
        try:
            res = self.client(host).prepare(timeout=timeout or self.timeout).call(ctxt, method, msg=msg)
            out = {"method": method, "result": res}
        except Exception as e:  # noqa: BLE001 - every outcome is reported to the test
            out = {"method": method, "error": "%s: %s" % (type(e).__name__, e), "error_class": type(e).__name__}
        out["elapsed_s"] = time.time() - start
        self.record("->" + method, ctxt, {"host": host, "msg": msg if len(msg) < 4096 else msg[:4096]}, outcome=out)
        return out

    def later(self, fn, *args):
        threading.Thread(target=fn, args=args, daemon=True).start()


class Endpoints:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self, srv):
        self.srv = srv

    def _faulted(self, method):
        f = self.srv.fault(method)
        if not f:
            return None
        if f["mode"] == "sleep":
            time.sleep(f.get("seconds", 1))
            return None
        if f["mode"] == "raise":
            raise RuntimeError("injected failure in " + method)
        return f["mode"]  # "false" or "none"

    def heartbeat(self, context, msg):
        args = json.loads(msg)
        try:
            time.strptime(args["when"], "%a %b %d %H:%M:%S %Y")
            ok = True
        except (KeyError, ValueError) as e:
            ok = False
            self.srv.record("heartbeat", context, {"msg": msg}, error="bad when: %s" % e)
        if ok:
            with LOCK:
                a = self.srv.agents.setdefault(args["agent"], {"configurations": json.dumps({"uplink": ""})})
                a["heartbeat"] = args["when"]
            self.srv.record("heartbeat", context, {"msg": msg}, parsed=args)

    def request_uplink_info(self, context, agent):
        self.srv.record("request_uplink_info", context, {"agent": agent}, result=0)
        if self.srv.react:
            with LOCK:
                conf = self.srv.agents.get(agent, {}).get("configurations", json.dumps({"uplink": ""}))
            self.srv.later(self.srv.call_agent, agent, "send_msg_to_agent", {"type": 1002}, conf)
        return 0

    def save_uplink(self, context, msg):
        args = json.loads(msg)
        mode = self._faulted("save_uplink")
        if mode == "false":
            self.srv.record("save_uplink", context, {"msg": msg}, parsed=args, result=False)
            return False
        if mode == "none":
            self.srv.record("save_uplink", context, {"msg": msg}, parsed=args, result=None)
            return None
        agent = args.get("agent")
        with LOCK:
            a = self.srv.agents.setdefault(agent, {})
            a["configurations"] = json.dumps({"uplink": args.get("uplink", ""), "veth_intf": args.get("veth_intf", "")})
            vms = list(self.srv.vms.get(agent, []))
        self.srv.record("save_uplink", context, {"msg": msg}, parsed=args, result=True)
        if self.srv.react and args.get("uplink") and mode != "nobulk":
            self.srv.later(self.srv.call_agent, agent, "send_vm_info", {}, str(vms))
        return True

    def update_vm_result(self, context, msg):
        args = json.loads(msg)
        self._faulted("update_vm_result")
        self.srv.record("update_vm_result", context, {"msg": msg}, parsed=args, result=0)
        return 0

    def save_topo_disc_params(self, context, msg):
        args = json.loads(msg)
        mode = self._faulted("save_topo_disc_params")
        if mode in ("false", "none"):
            self.srv.record("save_topo_disc_params", context, {"msg": msg}, parsed=args, result=None)
            return None
        time.strptime(args["heartbeat"], "%a %b %d %H:%M:%S %Y")  # upstream raises on anything else
        self.srv.record("save_topo_disc_params", context, {"msg": msg}, parsed=args, result=True)
        return True


def use_pre92_replies():
    """Replies to a direct exchange named after the reply queue (declared passive), as oslo < 9.2 did."""
    import kombu
    from oslo_messaging._drivers import impl_rabbit

    def direct_send(self, msg_id, msg):
        exchange = kombu.entity.Exchange(name=msg_id, type="direct", durable=False, auto_delete=True, passive=True)
        self._ensure_publishing(self._publish_and_raises_on_missing_exchange, exchange, msg, routing_key=msg_id)

    impl_rabbit.Connection.direct_send = direct_send


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--server", default="controller-1")
    p.add_argument("--react", action="store_true")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--pre92-replies", action="store_true")
    a = p.parse_args()
    if a.pre92_replies:
        use_pre92_replies()
    conf = cfg.CONF
    conf([], project="dfa-standin")
    transport = oslo_messaging.get_rpc_transport(conf, url=a.url)
    srv = Server(transport, a.record, a.react, a.timeout)
    target = oslo_messaging.Target(exchange="dfa", topic="dfa_server_q", server=a.server)
    server = oslo_messaging.get_rpc_server(transport, target, [Endpoints(srv)], executor="threading")
    server.start()
    emit({"ready": True, "pid": os.getpid()})
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op, cid = cmd.get("op"), cmd.get("id")
        if op == "set_vms":
            with LOCK:
                srv.vms[cmd["host"]] = cmd["vms"]
            emit({"id": cid, "ok": True})
        elif op == "fault":
            with LOCK:
                srv.faults[cmd["method"]] = {"mode": cmd["mode"], "seconds": cmd.get("seconds", 1), "count": cmd.get("count", -1)}
            emit({"id": cid, "ok": True})
        elif op == "call":
            def run(c=cmd, i=cid):
                out = srv.call_agent(c["host"], c["method"], c.get("ctxt", {}), c["msg"], c.get("timeout"))
                out["id"] = i
                emit(out)
            srv.later(run)
        elif op == "ping":
            emit({"id": cid, "ok": True})
    # stdin closed: leave at once (a clean transport.cleanup() takes about 10 s)
    os._exit(0)


if __name__ == "__main__":
    main()
