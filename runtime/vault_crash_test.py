#!/usr/bin/python3
"""Crash acceptance: kill -9 of the primary replnode during a bounded write loop.

usage: vault_crash_test.py <replnode binary> <work dir>

Two clusters (1 primary, 2 performance secondary), real processes on loopback. Writer threads
write distinct KV v2 keys through Vault's HTTP API, three on the primary and one on the
secondary (forwarded to the primary). After 60 acknowledged writes the primary is killed with
SIGKILL and restarted with the same flags while the writers go on. Every write answered 200
(acknowledged) must then be readable, with its value, on both clusters once the secondary has
caught up. Writes that failed or whose answer was lost are not acknowledged and not checked
(they may or may not be there). Bounded: 200 writes per thread, 60 s of writing, 240 s in all.
"""
import os
import signal
import sys
import threading
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vault_testlib as lib  # noqa: E402

WRITES_PER_THREAD_MAX = 200
WRITE_PHASE_S_MAX = 60
KILL_AFTER_ACKS = 60


class Writers:
    def __init__(self):
        self.acked = {}  # key -> value
        self.failed = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self, node, name):
        session = requests.Session()
        end = time.time() + WRITE_PHASE_S_MAX
        for j in range(WRITES_PER_THREAD_MAX):
            if self.stop.is_set() or time.time() > end:
                return
            key, value = "crash/%s/k%03d" % (name, j), "%s-%d" % (name, j)
            try:
                r = session.post("%s/v1/secret/data/%s" % (node.addr, key),
                                 headers={"X-Vault-Token": lib.ROOT},
                                 json={"data": {"v": value}}, timeout=10)
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
                session = requests.Session()
            with self.lock:
                if ok:
                    self.acked[key] = value
                else:
                    self.failed += 1
            if not ok:
                time.sleep(0.05)

    def acks(self):
        with self.lock:
            return len(self.acked)


def unreadable(node, acked):
    missing = []
    s = requests.Session()
    for key, value in sorted(acked.items()):
        try:
            r = s.get("%s/v1/secret/data/%s" % (node.addr, key),
                      headers={"X-Vault-Token": lib.ROOT}, timeout=10)
            if r.status_code != 200 or r.json()["data"]["data"] != {"v": value}:
                missing.append(key)
        except requests.RequestException:
            missing.append(key)
    return missing


def main():
    binary, workdir = sys.argv[1], lib.fresh_dir(sys.argv[2])
    signal.alarm(240)
    a, b = lib.start_pair(binary, workdir)
    w = Writers()
    threads = [threading.Thread(target=w.run, args=(a, "p%d" % i)) for i in range(3)]
    threads.append(threading.Thread(target=w.run, args=(b, "s0")))
    for t in threads:
        t.start()
    try:
        lib.wait_until(lambda: w.acks() >= KILL_AFTER_ACKS, 60, "%d acks" % KILL_AFTER_ACKS)
        acked_before_kill = w.acks()
        a.kill9()
        print("killed the primary (SIGKILL) after %d acknowledged writes" % acked_before_kill)
        time.sleep(0.5)
        a.start()
        a.wait_health(timeout_s=30)
        print("primary restarted with the same flags")
    finally:
        for t in threads:
            t.join(timeout=WRITE_PHASE_S_MAX + 20)
        w.stop.set()
    acked = dict(w.acked)
    assert len(acked) > acked_before_kill, "no write acknowledged after the restart"
    missing = unreadable(a, acked)
    assert not missing, "primary lost %d acknowledged writes: %s" % (len(missing), missing[:5])
    lib.wait_until(lambda: not unreadable(b, acked), 30, "secondary catches up")
    status = b.call("GET", "sys/replication/performance/status").json()["data"]
    assert status["state"] == "stream-wals", status
    # The check can fail: a planted loss (one acknowledged key deleted) is reported.
    planted = sorted(acked)[0]
    assert a.call("DELETE", "secret/metadata/" + planted).status_code == 204
    assert unreadable(a, acked) == [planted], "the durability check missed a planted loss"
    print("vault_crash_test: %d acknowledged writes (%d before the kill), %d failed or unknown; "
          "all readable on both clusters" % (len(acked), acked_before_kill, w.failed))
    a.stop()
    b.stop()


if __name__ == "__main__":
    main()
