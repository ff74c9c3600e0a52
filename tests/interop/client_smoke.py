#!/usr/bin/env python3
"""An independent client written from protocol/PROTOCOL.md alone (pyzmq, msgpack, hmac):
starts collab-broker on an ephemeral port, logs in as a coordinator and a worker, creates a
project, assigns a task, receives the task_assigned event, updates the task, reads it back.
Usage: client_smoke.py BROKER_EXE CREDENTIALS_JSON. Exit 77 (skip) without pyzmq/msgpack."""
import hashlib, hmac, json, os, struct, subprocess, sys, tempfile, time

try:
    import msgpack, zmq
except ImportError as e:
    print(f"skipped: {e}", file=sys.stderr)
    sys.exit(77)

PASSWORDS = {"coordinator1": "coord123", "worker1": "worker123"}
SIGNED_WEAK = {"create_project", "close_project", "delete_project", "assign_task",
               "reassign_task", "update_task_status", "register_worker", "change_password",
               "set_role", "revoke_session"}


def lp(b):
    return struct.pack(">I", len(b)) + b


class Agent:
    def __init__(self, ctx, endpoint, agent_id, key):
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.agent_id, self.key, self.session, self.next_id = agent_id, key, "", 1
        self.scope, self.replay, self.events = "weak", False, []

    def request(self, action, payload):
        rid, ts = self.next_id, int(time.time() * 1000)
        self.next_id += 1
        body = msgpack.packb(payload, use_bin_type=True)
        env = {"type": "request", "version": 1, "request_id": rid, "action": action,
               "agent_id": self.agent_id, "session_id": self.session, "timestamp": ts}
        nonce = os.urandom(16) if self.replay else b""
        if nonce:
            env["nonce"] = nonce
        env["payload"] = body
        if action != "login" and (self.scope == "full" or action in SIGNED_WEAK):
            if self.scope == "weak":
                signed = (lp(b"taskcollab/1 weak") + lp(self.agent_id.encode()) +
                          struct.pack(">Q", ts) + lp(nonce) + lp(body))
            else:
                signed = (lp(b"taskcollab/1 full") + struct.pack(">I", 1) + lp(action.encode()) +
                          struct.pack(">Q", rid) + lp(self.agent_id.encode()) +
                          lp(self.session.encode()) + struct.pack(">Q", ts) + lp(nonce) + lp(body))
            env["signature"] = hmac.new(self.key, signed, hashlib.sha256).digest()
        self.sock.send(msgpack.packb(env, use_bin_type=True))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not self.sock.poll(int((deadline - time.monotonic()) * 1000) + 1):
                break
            msg = msgpack.unpackb(self.sock.recv(), raw=False)
            if msg["type"] == "event":
                self.events.append((msg["event"], msgpack.unpackb(msg["data"], raw=False)))
            elif msg["type"] == "reply" and msg["request_id"] == rid:
                data = msgpack.unpackb(msg["data"], raw=False)
                if msg["status"] != "ok":
                    raise RuntimeError(f"{action}: {msg['error_code']} {msg['error']}")
                return data
        raise RuntimeError(f"{action}: no reply")

    def login(self, password):
        data = self.request("login", {"password": password})
        self.session = data["session_id"]
        self.scope = data["controls"]["signature_scope"]
        self.replay = data["controls"]["replay_protection"]
        return data


def main():
    broker, creds_path = sys.argv[1], sys.argv[2]
    keys = {a["agent_id"]: bytes.fromhex(a["hmac_key"])
            for a in json.load(open(creds_path))["agents"]}
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([broker, "--bind", "tcp://127.0.0.1:*", "--state",
                                 f"{tmp}/s.db", "--credentials", creds_path, "--security-log", f"{tmp}/sec.log"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            endpoint = proc.stdout.readline().split()[1]
            ctx = zmq.Context()
            coord = Agent(ctx, endpoint, "coordinator1", keys["coordinator1"])
            worker = Agent(ctx, endpoint, "worker1", keys["worker1"])
            assert coord.login(PASSWORDS["coordinator1"])["role"] == "coordinator"
            worker.login(PASSWORDS["worker1"])
            worker.request("subscribe", {})
            pid = coord.request("create_project", {"name": "Interop", "description": "py"})["project_id"]
            tid = coord.request("assign_task", {"project_id": pid, "type": "testing",
                                                "title": "from python", "worker": "worker1"})["task_id"]
            worker.request("heartbeat", {})
            assert ("task_assigned", tid) in [(e, d.get("task_id")) for e, d in worker.events], worker.events
            worker.request("update_task_status", {"task_id": tid, "status": "in_progress"})
            worker.request("update_task_status", {"task_id": tid, "status": "completed",
                                                  "result": "done in python"})
            task = coord.request("get_project", {"project_id": pid})["tasks"][0]
            assert task["status"] == "completed" and task["result"] == "done in python", task
            print("client_smoke.py: a Python client logged in, created, assigned, updated and read back")
            ctx.destroy(linger=0)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
