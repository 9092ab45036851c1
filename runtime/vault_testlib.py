"""Shared helpers for the replnode acceptance tests (runtime/vault_*_test.py).

Starts replnode processes on loopback with free ports, waits for them, and always stops what
it started (kill -9 at exit, whatever happened). Every wait is bounded in time.
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import time

import requests

ROOT = "acceptance-root"
_started = []


def _stop_all():
    for p in _started:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


atexit.register(_stop_all)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """One replnode process: node id == cluster id, one node per cluster."""

    def __init__(self, binary, workdir, node_id, peers, dev_root=ROOT, extra=()):
        self.binary = binary
        self.node_id = node_id
        self.data_dir = os.path.join(workdir, "cluster%d" % node_id)
        self.log_path = os.path.join(workdir, "node%d.log" % node_id)
        self.listen_port = peers[node_id]
        self.http_port = free_port()
        self.addr = "http://127.0.0.1:%d" % self.http_port
        peer_flag = ",".join("%d=127.0.0.1:%d" % (i, p) for i, p in sorted(peers.items()))
        self.args = [binary, "--node-id=%d" % node_id, "--cluster-id=%d" % node_id,
                     "--listen=127.0.0.1:%d" % self.listen_port,
                     "--http=127.0.0.1:%d" % self.http_port, "--peers=" + peer_flag,
                     "--data-dir=" + self.data_dir] + list(extra)
        if dev_root:
            self.args.append("--dev-root-token-id=" + dev_root)
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT)
        _started.append(self.proc)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def wait_health(self, want=(200,), timeout_s=20):
        end = time.time() + timeout_s
        last = None
        while time.time() < end:
            if self.proc.poll() is not None:
                with open(self.log_path) as f:
                    raise AssertionError("node %d exited (%s): %s" %
                                         (self.node_id, self.proc.returncode, f.read()[-2000:]))
            try:
                last = requests.get(self.addr + "/v1/sys/health", timeout=2).status_code
                if last in want:
                    return last
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("node %d: sys/health never answered %s (last %s); log %s" %
                             (self.node_id, want, last, self.log_path))

    def call(self, method, path, token=ROOT, headers=None, **kwargs):
        h = dict(headers or {})
        if token:
            h["X-Vault-Token"] = token
        return requests.request(method, self.addr + "/v1/" + path, headers=h, timeout=15,
                                **kwargs)


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def wait_until(pred, timeout_s, what):
    end = time.time() + timeout_s
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out after %ss: %s" % (timeout_s, what))


def start_pair(binary, workdir):
    """Two clusters: 1 primary, 2 its performance secondary (dev root token on both)."""
    peers = {1: free_port(), 2: free_port()}
    a = Node(binary, workdir, 1, peers)
    b = Node(binary, workdir, 2, peers)
    a.start()
    b.start()
    a.wait_health()
    b.wait_health()
    r = a.call("PUT", "sys/replication/performance/primary/enable")
    assert r.status_code == 200, r.text
    r = a.call("PUT", "sys/replication/performance/primary/secondary-token", json={"id": "dc2"})
    assert r.status_code == 200, r.text
    token = r.json()["wrap_info"]["token"]
    r = b.call("PUT", "sys/replication/performance/secondary/enable", json={"token": token})
    assert r.status_code == 200, r.text

    def streaming():
        s = b.call("GET", "sys/replication/performance/status", token=None).json()["data"]
        return s["state"] == "stream-wals" and s["connection_state"] == "ready"

    wait_until(streaming, 20, "secondary reaches stream-wals")
    return a, b
