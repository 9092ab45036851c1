#!/usr/bin/python3
"""Acceptance: the attacks of issue 16 against a replnode, each one a check that must hold.

usage: vault_security_test.py <replnode binary> <work dir>

One replnode (cluster 1, dev root token, a 1 s request timeout and 8 connections at most) on
loopback. Every attack is tried as an unprivileged user or as a raw TCP client would, and the
check is what Vault would answer. Bounded by an alarm; the process is killed at exit.
"""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vault_testlib as lib  # noqa: E402

REQUEST_TIMEOUT_MS = 1000
SESSIONS_MAX = 8


def ok(what):
    print("ok  " + what, flush=True)


def raw(node, data, read_timeout_s=5.0):
    """Sends raw bytes; returns (status line or "", seconds until the server closed)."""
    s = socket.create_connection(("127.0.0.1", node.http_port), timeout=read_timeout_s)
    start = time.time()
    s.sendall(data)
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    finally:
        s.close()
    return got.split(b"\r\n", 1)[0].decode(errors="replace"), got, time.time() - start


def check_isolation_and_credentials(n):
    root = lib.ROOT
    pol = '{"path": {"secret/*": {"capabilities": ["create", "read", "update", "delete", "list"]}}}'
    assert n.call("PUT", "sys/policy/dev", json={"policy": pol}).status_code == 204
    assert n.call("POST", "auth/userpass/users/alice",
                  json={"password": "pw", "token_policies": ["dev"]}).status_code == 204
    t = n.call("POST", "auth/userpass/login/alice", token=None,
               json={"password": "pw"}).json()["auth"]["client_token"]
    # A KV mount lists only its own namespace: no users, tokens or config appear.
    keys = n.call("LIST", "secret/metadata/", token=t)
    assert keys.status_code == 404, keys.text  # nothing written in secret/ yet
    # Writing paths that name other namespaces creates nothing there.
    for path in ("auth/userpass/users/mallory", "../../vault/users/mallory",
                 "..%2F..%2Fvault%2Fusers%2Fmallory", "vault/users/mallory", "sys/x",
                 "local/vault/tokens/x"):
        r = n.call("POST", "secret/data/" + path, token=t,
                   json={"data": {"password": "x", "hash": "y"}})
        # 200: stored inside secret/'s namespace; 404: the client normalized "../" away and
        # no mount is at the resulting path. Either way nothing outside the mount is written.
        assert r.status_code in (200, 404), (path, r.text)
    r = n.call("POST", "auth/userpass/login/mallory", token=None, json={"password": "x"})
    assert r.status_code == 400, r.text
    listed = n.call("LIST", "secret/metadata/", token=t).json()["data"]["keys"]
    assert set(listed) <= {"auth/", "..%2F..%2Fvault%2Fusers%2Fmallory", "../", "vault/",
                           "sys/", "local/"}, listed
    # The stored user record holds a salted PBKDF2 hash, never the password or its bare SHA-256
    # (only root can read users, and the read omits credentials).
    u = n.call("GET", "auth/userpass/users/alice").json()["data"]
    assert "password" not in u and "hash" not in u, u
    ok("isolation: KV paths naming users/tokens/sys land inside the mount; no login created")
    # Operator routes need the root token.
    for method, path, body in (("PUT", "sys/replication/performance/primary/enable", {}),
                               ("POST", "auth/userpass/users/eve", {"password": "x"}),
                               ("PUT", "sys/replication/performance/primary/secondary-token",
                                {"id": "x"}),
                               ("PUT", "sys/replication/performance/primary/demote", {}),
                               ("POST", "sys/mounts/evil", {"type": "kv"}),
                               ("PUT", "sys/policy/evil", {"policy": pol})):
        for token in (None, t):
            r = n.call(method, path, token=token, json=body)
            assert r.status_code == 403, (method, path, token, r.status_code, r.text)
            assert r.json() == {"errors": ["permission denied"]}, r.text
    ok("operator routes (replication, users, mounts, policies) -> 403 without a root token")
    assert n.call("PUT", "sys/replication/performance/primary/enable").status_code == 200
    for ttl in ("-5", "abc", -5, "5x"):
        r = n.call("PUT", "sys/replication/performance/primary/secondary-token",
                   json={"id": "x", "ttl": ttl})
        assert r.status_code == 400 and r.json()["errors"], (ttl, r.text)
    r = n.call("PUT", "sys/replication/performance/primary/secondary-token",
               json={"id": "x", "ttl_us": "-5"})
    assert r.status_code == 400, r.text
    ok("secondary-token ttl '-5', 'abc', -5, '5x' -> 400")
    for body in ('{"password": 5}', "", "{}", '{"password": ""}', '{"password": "pw"'):
        r = n.call("POST", "auth/userpass/users/carol", data=body)
        assert r.status_code == 400, (body, r.text)
    assert n.call("GET", "auth/userpass/users/carol").status_code == 404
    for body in ("{}", '{"password": ""}', '{"password": 5}', '{"password":"pw"'):
        r = n.call("POST", "auth/userpass/login/alice", token=None, data=body)
        assert r.status_code == 400, (body, r.text)
    ok("users: {password: 5}, empty body, {}, empty password -> 400, nothing created; "
       "login with {} or a truncated body -> 400")


def check_bounds(n):
    big = b"PUT /v1/secret/data/x HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n{}"
    status, body, _ = raw(n, big)
    assert status.startswith("HTTP/1.1 413"), status
    assert b'"errors"' in body, body
    ok("50 MB body announced -> 413 {errors} (Vault's 32 MiB bound)")
    hdr = b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    status, _, _ = raw(n, hdr)
    assert status.startswith("HTTP/1.1 431"), status
    ok("20 KB header -> 431")
    slow = b"PUT /v1/secret/data/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\""
    status, _, seconds = raw(n, slow, read_timeout_s=REQUEST_TIMEOUT_MS / 1000 * 5)
    assert status == "" and seconds < REQUEST_TIMEOUT_MS / 1000 * 3, (status, seconds)
    ok("Content-Length 100 with 5 bytes sent: closed after %.1f s (bound %d ms)" %
       (seconds, REQUEST_TIMEOUT_MS))
    idle = []
    for _ in range(SESSIONS_MAX * 4):
        idle.append(socket.create_connection(("127.0.0.1", n.http_port), timeout=5))
    time.sleep(0.2)
    for _ in range(3):
        r = n.call("GET", "sys/health", token=None)
        assert r.status_code == 200, r.status_code
    for s in idle:
        s.close()
    ok("%d idle connections held (cap %d): requests still answered (oldest idle shed)" %
       (SESSIONS_MAX * 4, SESSIONS_MAX))


def main():
    binary, workdir = sys.argv[1], lib.fresh_dir(sys.argv[2])
    signal.alarm(120)
    n = lib.Node(binary, workdir, 1, {1: lib.free_port()},
                 extra=["--http-request-timeout-ms=%d" % REQUEST_TIMEOUT_MS,
                        "--http-sessions-max=%d" % SESSIONS_MAX])
    n.start()
    n.wait_health()
    check_isolation_and_credentials(n)
    check_bounds(n)
    n.stop()
    print("vault_security_test: passed")


if __name__ == "__main__":
    main()
