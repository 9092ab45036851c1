#!/usr/bin/python3
"""Acceptance: unmodified hvac (Debian python3-hvac) against two replnode clusters.

usage: vault_hvac_test.py <replnode binary> <work dir>

Cluster 1 is the primary, cluster 2 its performance secondary, each one replnode process on
loopback, started with --dev-root-token-id; a third process without it checks sys/init.
Every route of docs/runtime.md is driven through hvac (or, where hvac 0.11 has no method,
through hvac's generic read/write/list or plain HTTP) on both clusters. Prints one line per
route with what was checked; exits non-zero on the first failed check. Processes are always
killed at exit; the whole run is bounded by an alarm.
"""
import os
import signal
import sys
import time

import hvac
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vault_testlib as lib  # noqa: E402

checked = []


def ok(route, what):
    checked.append((route, what))
    print("ok  %-48s %s" % (route, what), flush=True)


def expect_error(exc_type, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type as e:
        if exc_type is not hvac.exceptions.InvalidPath:  # Vault's 404s carry no message
            assert isinstance(e.errors, list) and e.errors, (
                "errors must be a non-empty list: %r" % (e.errors,))
        return e
    raise AssertionError("expected %s from %s" % (exc_type.__name__, fn))


def client(node, token=lib.ROOT):
    return hvac.Client(url=node.addr, token=token, timeout=15)


def check_sys(a, b, workdir):
    for n, mode in ((a, "primary"), (b, "secondary")):
        c = client(n)
        h = c.sys.read_health_status(method="GET")
        assert h["initialized"] and not h["sealed"] and not h["standby"], h
        assert h["replication_performance_mode"] == mode, h
        assert c.sys.read_health_status(method="HEAD").status_code == 200
        r = requests.get(n.addr + "/v1/sys/health?activecode=299", timeout=5)
        assert r.status_code == 299
        s = c.sys.read_seal_status()
        assert s["sealed"] is False and s["initialized"] is True and s["type"] == "shamir", s
        assert c.sys.is_initialized() is True
        leader = c.sys.read_leader_status()
        assert leader["is_self"] is True and leader["ha_enabled"] is True, leader
    ok("GET|HEAD sys/health", "200 active, fields, activecode, mode primary/secondary")
    ok("GET sys/seal-status", "sealed false, initialized, shamir (both clusters)")
    ok("GET sys/leader", "is_self (both clusters)")

    peers = {3: lib.free_port()}
    fresh = lib.Node(a.binary, workdir, 3, peers, dev_root=None)
    fresh.start()
    try:
        assert fresh.wait_health(want=(501,)) == 501
        h = requests.get(fresh.addr + "/v1/sys/health", timeout=5).json()
        assert h["initialized"] is False and h["sealed"] is True, h
        c = hvac.Client(url=fresh.addr, timeout=15)
        assert c.sys.is_initialized() is False
        sealed = requests.get(fresh.addr + "/v1/secret/data/x",
                              headers={"X-Vault-Token": "x"}, timeout=5)
        assert sealed.status_code == 503 and sealed.json()["errors"], sealed.text
        init = c.sys.initialize(secret_shares=1, secret_threshold=1)
        root = init["root_token"]
        assert root.startswith("hvs.") and init["keys"] == [], init
        assert c.sys.is_initialized() is True
        expect_error(hvac.exceptions.InvalidRequest, c.sys.initialize, 1, 1)
        c.token = root
        assert c.auth.token.lookup_self()["data"]["policies"] == ["root"]
        assert fresh.wait_health() == 200
    finally:
        fresh.stop()
    ok("GET|PUT sys/init", "501 before, 503 on data routes, root token, 400 twice")


def check_mounts(a, b):
    c = client(a)
    mounts = c.sys.list_mounted_secrets_engines()["data"]
    assert mounts["secret/"]["type"] == "kv" and mounts["secret/"]["options"]["version"] == "2"
    c.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    c.sys.enable_secrets_engine("kv", path="scratch", options={"version": "2"})
    e = expect_error(hvac.exceptions.InvalidRequest, c.sys.enable_secrets_engine, "kv",
                     path="kv1")
    assert "already in use" in e.errors[0], e.errors
    expect_error(hvac.exceptions.InvalidRequest, c.sys.enable_secrets_engine, "transit",
                 path="tr")
    c.sys.disable_secrets_engine("scratch")
    mounts = c.sys.list_mounted_secrets_engines()["data"]
    assert "kv1/" in mounts and "scratch/" not in mounts, sorted(mounts)

    def replicated():
        m = client(b).sys.list_mounted_secrets_engines()["data"]
        return "kv1/" in m and "scratch/" not in m

    lib.wait_until(replicated, 10, "mount table replicated to the secondary")
    tune = client(b).sys.read_mount_configuration("kv1")
    assert tune["data"]["options"]["version"] == "1", tune
    denied = requests.get(a.addr + "/v1/sys/mounts", timeout=5)
    assert denied.status_code == 403 and denied.json() == {"errors": ["permission denied"]}
    ok("GET|POST|DELETE sys/mounts[/<path>]", "secret/ v2 default, mount v1/v2, 400 in use, "
       "400 unknown type, unmount, replicated, tune, 403 without token")


def check_replication(a, b):
    for n in (a, b):
        s = client(n, None).read("sys/replication/status")["data"]
        assert s["dr"]["mode"] == "disabled"
        assert s["performance"]["mode"] in ("primary", "secondary")
    pa = client(a).read("sys/replication/performance/status")["data"]
    assert pa["mode"] == "primary" and pa["state"] == "running", pa
    assert pa["known_secondaries"] == ["dc2"], pa
    assert pa["secondaries"][0]["connection_status"] == "connected", pa
    assert len(pa["merkle_root"]) == 40 and pa["corrupted_merkle_tree"] is False, pa
    pb = client(b).read("sys/replication/performance/status")["data"]
    assert pb["mode"] == "secondary" and pb["connection_state"] == "ready", pb
    assert pb["secondary_id"] == "dc2" and "last_remote_wal" in pb, pb
    short = requests.get(b.addr + "/v1/sys/replication/status", timeout=5).json()
    assert short["data"]["performance"]["mode"] == "secondary"
    for path in ("sys/replication/performance/primary/secondary-token",
                 "sys/replication/primary/secondary-token"):
        r = client(a).write(path, id="other")
        assert len(r["wrap_info"]["token"]) > 20, r
    expect_error(hvac.exceptions.InvalidRequest, client(a).write,
                 "sys/replication/performance/primary/secondary-token")
    expect_error(hvac.exceptions.InvalidRequest, client(b).write,
                 "sys/replication/performance/primary/enable")
    e = expect_error(hvac.exceptions.InvalidRequest, client(a).write,
                     "sys/replication/performance/primary/revoke-secondary", id="dc2")
    assert "not supported" in e.errors[0], e.errors
    ok("GET sys/replication/status", "dr + performance, unauthenticated, both clusters")
    ok("GET sys/replication/performance/status", "primary: running, known_secondaries, "
       "secondaries[], merkle_root; secondary: connection_state ready, secondary_id")
    ok("PUT sys/replication/[performance/]primary/secondary-token", "wrap_info.token, "
       "short alias, 400 without id")
    ok("PUT sys/replication/performance/{primary/enable,secondary/enable}",
       "enabled both clusters (setup), 400 enabling a secondary as primary")
    ok("PUT sys/replication/performance/primary/revoke-secondary", "400 not supported (honest)")


DEV_POLICY = {"path": {"secret/*": {"capabilities": ["create", "read", "update", "delete",
                                                     "list"]},
                       "kv1/*": {"capabilities": ["create", "read", "update", "delete", "list"]}}}
RO_POLICY = {"path": {"secret/data/ro/*": {"capabilities": ["read"]},
                      "secret/data/ro/hidden": {"capabilities": ["deny"]},
                      "secret/metadata/*": {"capabilities": ["list"]}}}


def check_policies(a, b):
    c = client(a)
    c.sys.create_or_update_policy("dev", DEV_POLICY)
    c.sys.create_or_update_policy("ro", RO_POLICY)
    assert {"default", "root", "dev", "ro"} <= set(c.sys.list_policies()["data"]["policies"])
    assert '"secret/data/ro/*"' in c.sys.read_policy("ro")["data"]["rules"]
    expect_error(hvac.exceptions.InvalidRequest, c.sys.create_or_update_policy, "bad",
                 'path "secret/*" { capabilities = ["read"] }')
    expect_error(hvac.exceptions.InvalidRequest, c.sys.create_or_update_policy, "bad",
                 {"path": {"secret/*": {"capabilities": ["fly"]}}})
    expect_error(hvac.exceptions.InvalidRequest, c.sys.delete_policy, "root")
    c.sys.create_or_update_policy("gone", RO_POLICY)
    c.sys.delete_policy("gone")
    expect_error(hvac.exceptions.InvalidPath, c.sys.read_policy, "gone")
    acl = a.call("GET", "sys/policies/acl/ro").json()["data"]
    assert acl["name"] == "ro" and '"secret/metadata/*"' in acl["policy"], acl
    assert "ro" in a.call("LIST", "sys/policies/acl").json()["data"]["keys"]
    lib.wait_until(lambda: _try(lambda: client(b).sys.read_policy("ro")), 10,
                   "policies replicated")
    ok("GET|PUT|DELETE sys/policy/<name>, sys/policies/acl/<name>, LIST", "JSON policy form, "
       "400 HCL and unknown capability, root undeletable, replicated")


def check_authorization(a, tokens):
    c = client(a)
    c.auth.userpass.create_or_update_user("rita", password="pw3", policies=["ro"])
    c.auth.userpass.create_or_update_user("dora", password="pw4")  # default policy only
    c.secrets.kv.v2.create_or_update_secret("ro/k", secret={"a": 1})
    c.secrets.kv.v2.create_or_update_secret("ro/hidden", secret={"a": 1})
    rita = client(a, None)
    rita.auth.userpass.login("rita", "pw3")
    assert rita.secrets.kv.v2.read_secret_version("ro/k")["data"]["data"] == {"a": 1}
    assert "k" in rita.secrets.kv.v2.list_secrets("ro")["data"]["keys"]
    for fn, args in ((rita.secrets.kv.v2.create_or_update_secret, ("ro/k", {"a": 2})),
                     (rita.secrets.kv.v2.read_secret_version, ("ro/hidden",)),
                     (rita.secrets.kv.v2.read_secret_version, ("app/db",)),
                     (rita.sys.list_mounted_secrets_engines, ()),
                     (rita.sys.enable_secrets_engine, ("kv",)),
                     (rita.auth.userpass.create_or_update_user, ("mallory", "x")),
                     (rita.write, ("sys/replication/performance/primary/secondary-token",)),
                     (rita.write, ("sys/replication/performance/primary/demote",))):
        e = expect_error(hvac.exceptions.Forbidden, fn, *args)
        assert e.errors == ["permission denied"], e.errors
    dora = client(a, None)
    dora.auth.userpass.login("dora", "pw4")
    assert dora.auth.token.lookup_self()["data"]["policies"] == ["default"]
    expect_error(hvac.exceptions.Forbidden, dora.secrets.kv.v2.read_secret_version, "ro/k")
    ok("(authorization)", "path policies: read granted, write/deny/other paths 403; default "
       "policy has no KV access; operator routes 403 without root")


def check_userpass(a, b):
    c = client(a)
    assert c.sys.enable_auth_method("userpass").status_code == 204
    r = c.auth.userpass.create_or_update_user("alice", password="pw1", policies=["dev"])
    assert r.status_code == 204
    c.auth.userpass.create_or_update_user("bob", password="pw2")
    assert sorted(c.auth.userpass.list_user()["data"]["keys"]) == ["alice", "bob"]
    assert c.auth.userpass.read_user("alice")["data"]["policies"] == ["dev"]
    r = a.call("POST", "auth/userpass/users/bob/password", json={"password": "pw2b"})
    assert r.status_code == 204, r.text
    client(a, None).auth.userpass.login("bob", "pw2b")
    expect_error(hvac.exceptions.InvalidRequest, client(a, None).auth.userpass.login, "bob",
                 "pw2")
    c.auth.userpass.delete_user("bob")
    assert c.auth.userpass.list_user()["data"]["keys"] == ["alice"]
    expect_error(hvac.exceptions.InvalidRequest, c.auth.userpass.create_or_update_user, "eve",
                 password="")
    expect_error(hvac.exceptions.Forbidden, client(a, None).auth.userpass.create_or_update_user,
                 "mallory", password="x")
    tokens = {}
    for n in (a, b):
        u = hvac.Client(url=n.addr, timeout=15)

        def login():
            return u.auth.userpass.login("alice", "pw1")

        lib.wait_until(lambda: _try(login), 10, "alice replicated to node %d" % n.node_id)
        auth = login()["auth"]
        for field in ("client_token", "accessor", "policies", "token_policies",
                      "lease_duration", "renewable"):
            assert field in auth, (field, auth)
        assert auth["policies"] == ["default", "dev"] and auth["renewable"] is True, auth
        assert u.is_authenticated()
        tokens[n.node_id] = auth["client_token"]
        expect_error(hvac.exceptions.InvalidRequest, u.auth.userpass.login, "alice", "wrong")
    ok("POST auth/userpass/users/<u>[/password]", "create, update, password change, 400 empty "
       "password, 403 without token")
    ok("GET|LIST|DELETE auth/userpass/users[/<u>]", "read policies, list keys, delete")
    ok("POST auth/userpass/login/<u>", "auth.{client_token,accessor,policies,token_policies,"
       "lease_duration,renewable} on both clusters, 400 bad password")
    return tokens


def _try(fn):
    try:
        fn()
        return True
    except hvac.exceptions.VaultError:
        return False


def check_tokens(a, b, tokens):
    for n in (a, b):
        u = client(n, tokens[n.node_id])
        data = u.auth.token.lookup_self()["data"]
        assert data["policies"] == ["default", "dev"] and data["ttl"] > 0, data
        renewed = u.auth.token.renew_self(increment="1h")["auth"]
        assert renewed["lease_duration"] == 3600, renewed
        bearer = requests.get(n.addr + "/v1/auth/token/lookup-self",
                              headers={"Authorization": "Bearer " + tokens[n.node_id]},
                              timeout=5)
        assert bearer.status_code == 200 and bearer.json()["data"]["id"] == tokens[n.node_id]
        created = client(n).auth.token.create(policies=["dev"], ttl="10m")["auth"]
        assert created["lease_duration"] == 600 and "dev" in created["policies"], created
        child = client(n, created["client_token"])
        assert child.auth.token.lookup_self()["data"]["display_name"].startswith("token")
        expect_error(hvac.exceptions.Forbidden, child.auth.token.create, policies=["root"])
        child.auth.token.revoke_self()
        expect_error(hvac.exceptions.Forbidden, child.auth.token.lookup_self)
    # A token is local to the cluster that minted it (Vault's rule for performance secondaries).
    e = expect_error(hvac.exceptions.Forbidden, client(b, tokens[1]).secrets.kv.v2.
                     read_secret_version, "anything")
    assert e.errors == ["permission denied"], e.errors
    r = requests.get(b.addr + "/v1/secret/data/anything",
                     headers={"X-Vault-Token": tokens[1]}, timeout=5)
    assert r.status_code == 403 and r.json() == {"errors": ["permission denied"]}, r.text
    ok("GET auth/token/lookup-self", "policies, ttl, Authorization: Bearer (both clusters)")
    ok("POST auth/token/renew-self", "increment 1h -> lease_duration 3600")
    ok("POST auth/token/create", "root creates, policies and ttl, 403 for a non-root token")
    ok("POST auth/token/revoke-self", "then 403")
    ok("(foreign token)", "primary's token on the secondary -> 403 {\"errors\":[\"permission "
       "denied\"]}")


def check_kv2(a, b, tokens):
    ca = client(a, tokens[1])
    cb = client(b, tokens[2])
    kv = ca.secrets.kv.v2
    w = kv.create_or_update_secret("app/db", secret={"user": "u1"})
    assert w["data"]["version"] == 1, w
    w = kv.create_or_update_secret("app/db", secret={"user": "u2"}, cas=1)
    assert w["data"]["version"] == 2
    e = expect_error(hvac.exceptions.InvalidRequest, kv.create_or_update_secret, "app/db",
                     secret={"user": "u3"}, cas=1)
    assert "check-and-set" in e.errors[0], e.errors
    assert kv.read_secret_version("app/db")["data"]["data"] == {"user": "u2"}
    assert kv.read_secret_version("app/db", version=1)["data"]["data"] == {"user": "u1"}
    kv.patch("app/db", {"pass": "p"})
    assert kv.read_secret_version("app/db")["data"]["data"] == {"user": "u2", "pass": "p"}
    kv.delete_latest_version_of_secret("app/db")
    expect_error(hvac.exceptions.InvalidPath, kv.read_secret_version, "app/db")
    kv.undelete_secret_versions("app/db", versions=[3])
    assert kv.read_secret_version("app/db")["data"]["metadata"]["version"] == 3
    kv.delete_secret_versions("app/db", versions=[2])
    expect_error(hvac.exceptions.InvalidPath, kv.read_secret_version, "app/db", version=2)
    kv.destroy_secret_versions("app/db", versions=[1])
    meta = kv.read_secret_metadata("app/db")["data"]
    assert meta["current_version"] == 3 and meta["versions"]["1"]["destroyed"] is True, meta
    assert meta["versions"]["2"]["deletion_time"] != "", meta
    kv.update_metadata("app/db", max_versions=2)
    for i in range(3):
        kv.create_or_update_secret("app/db", secret={"i": i})
    meta = kv.read_secret_metadata("app/db")["data"]
    assert meta["max_versions"] == 2 and sorted(meta["versions"]) == ["5", "6"], meta
    assert meta["oldest_version"] == 5, meta
    kv.configure(max_versions=5, cas_required=True, mount_point="secret")
    assert kv.read_configuration()["data"]["cas_required"] is True
    expect_error(hvac.exceptions.InvalidRequest, kv.create_or_update_secret, "app/cas",
                 secret={"a": 1})
    kv.create_or_update_secret("app/cas", secret={"a": 1}, cas=0)
    kv.configure(max_versions=0, cas_required=False)
    kv.create_or_update_secret("app/nested/deep/leaf", secret={"x": 1})
    kv.create_or_update_secret("apple", secret={"x": 1})
    keys = kv.list_secrets("app")["data"]["keys"]
    assert keys == ["cas", "db", "nested/"], keys
    assert kv.list_secrets("")["data"]["keys"] == ["app/", "apple"]
    expect_error(hvac.exceptions.InvalidPath, kv.list_secrets, "nothing-here")
    ok("POST secret/data/<p>", "versions 1..n, options.cas, CAS conflict -> 400, cas_required")
    ok("GET secret/data/<p>[?version=n]", "latest, by version, 404 deleted/destroyed")
    ok("DELETE secret/data/<p>, POST secret/{delete,undelete,destroy}/<p>",
       "soft delete, undelete, destroy")
    ok("GET|POST secret/metadata/<p>", "versions map, destroyed, deletion_time, max_versions "
       "prunes (oldest_version)")
    ok("LIST secret/metadata/<p>", "one level, folders with '/', app vs apple, 404 when empty")
    ok("GET|POST secret/config", "max_versions, cas_required")

    leaf = "app/nested/deep/leaf"
    lib.wait_until(lambda: _try(lambda: cb.secrets.kv.v2.read_secret_version(leaf)), 10,
                   "secondary catches up")
    assert cb.secrets.kv.v2.list_secrets("app")["data"]["keys"] == ["cas", "db", "nested/"]
    # A write on the secondary is forwarded to the primary; its X-Vault-Index reads it back.
    r = b.call("POST", "secret/data/fw/k", token=tokens[2], json={"data": {"via": "secondary"}})
    assert r.status_code == 200 and r.json()["data"]["version"] == 1, r.text
    index = r.headers["X-Vault-Index"]
    for n, t in ((a, tokens[1]), (b, tokens[2])):
        g = n.call("GET", "secret/data/fw/k", token=t, headers={"X-Vault-Index": index})
        assert g.status_code == 200 and g.json()["data"]["data"] == {"via": "secondary"}, g.text
        assert g.headers.get("X-Vault-Index"), g.headers
    assert ca.secrets.kv.v2.read_secret_version("fw/k")["data"]["data"]["via"] == "secondary"
    r = b.call("POST", "secret/data/fw/k", token=tokens[2],
               json={"data": {"v": 2}, "options": {"cas": 1}})
    assert r.status_code == 200 and r.json()["data"]["version"] == 2, r.text
    r = b.call("POST", "secret/data/fw/k", token=tokens[2],
               json={"data": {"v": 3}, "options": {"cas": 1}})
    assert r.status_code == 400 and "check-and-set" in r.json()["errors"][0], r.text
    far = b.call("GET", "secret/data/fw/k", token=tokens[2],
                 headers={"X-Vault-Index": "99999999:1"})
    assert far.status_code == 412 and far.json()["errors"], far.text
    fwd = b.call("GET", "secret/data/fw/k", token=tokens[2],
                 headers={"X-Vault-Index": index, "X-Vault-Inconsistent": "forward-active-node"})
    assert fwd.status_code == 200, fwd.text
    ok("(forwarded write)", "POST on the secondary -> primary, X-Vault-Index read back on both, "
       "CAS on the secondary")
    ok("X-Vault-Index / X-Vault-Inconsistent", "answered on reads and writes; 412 when not "
       "reached; forward-active-node")


def check_kv1(a, b, tokens):
    ca = client(a, tokens[1])
    kv = ca.secrets.kv.v1
    assert kv.create_or_update_secret("a/b/c", {"k": "v"}, mount_point="kv1").status_code == 204
    kv.create_or_update_secret("a/top", {"k": "t"}, mount_point="kv1")
    assert kv.read_secret("a/b/c", mount_point="kv1")["data"] == {"k": "v"}
    assert kv.list_secrets("a", mount_point="kv1")["data"]["keys"] == ["b/", "top"]
    for q in ("true", "1", "True"):
        r = a.call("GET", "kv1/a?list=" + q, token=tokens[1])
        assert r.status_code == 200 and r.json()["data"]["keys"] == ["b/", "top"], (q, r.text)
    r = a.call("LIST", "kv1/a/", token=tokens[1])
    assert r.status_code == 200 and r.json()["data"]["keys"] == ["b/", "top"], r.text
    cb = client(b, tokens[2])
    lib.wait_until(lambda: _try(lambda: cb.secrets.kv.v1.read_secret("a/top", mount_point="kv1")),
                   10, "kv1 replicated")
    assert cb.secrets.kv.v1.list_secrets("a/b", mount_point="kv1")["data"]["keys"] == ["c"]
    assert kv.delete_secret("a/top", mount_point="kv1").status_code == 204
    expect_error(hvac.exceptions.InvalidPath, kv.read_secret, "a/top", mount_point="kv1")
    ok("GET|PUT|DELETE kv1/<p> (KV v1)", "204 on writes, {data}, 404 after delete, replicated")
    ok("LIST kv1/<p> and GET ?list=true|1|True", "one level: ['b/', 'top']")


def check_errors(a, tokens):
    t = tokens[1]
    bad = [("POST", "secret/data/err", '{"data": {"a": 1}', "malformed"),
           ("POST", "secret/data/err", '{"data": {"a": 1}} trailing', "trailing bytes"),
           ("POST", "secret/data/err", '[1, 2]', "not an object"),
           ("POST", "secret/data/err", '{"data": "text"}', "data not an object"),
           ("POST", "secret/data/err", '{"data": {}, "options": {"cas": "x"}}', "cas mistyped"),
           ("PUT", "kv1/err", '{"a": 1', "kv1 malformed"),
           ("POST", "auth/userpass/users/err", '{"password": 5}', "password mistyped")]
    for method, path, body, what in bad:
        token = lib.ROOT if "users" in path else t
        r = a.call(method, path, token=token, data=body)
        assert r.status_code == 400, (what, r.status_code, r.text)
        assert isinstance(r.json()["errors"], list) and r.json()["errors"], (what, r.text)
    for path in ("secret/data/err", "kv1/err"):
        assert a.call("GET", path, token=t).status_code == 404, path
    assert a.call("GET", "auth/userpass/users/err").status_code == 404
    r = a.call("GET", "nomount/x", token=lib.ROOT)
    assert r.status_code == 404 and r.json()["errors"], r.text
    r = a.call("PATCH", "secret/data/x", token=t, json={})
    assert r.status_code == 405 and r.json()["errors"], r.text
    r = a.call("GET", "secret/data/x", token="not-a-token")
    assert r.status_code == 403 and r.json() == {"errors": ["permission denied"]}
    r = a.call("GET", "secret/data/x", token=t, headers={"X-Vault-Index": "garbage"})
    assert r.status_code == 400 and r.json()["errors"], r.text
    ok("(errors)", "400 malformed/mistyped JSON and nothing written, 403, 404, 405, 412 (kv2), "
       "all {\"errors\":[...]}")


def check_failover(a, b):
    """Planned failover through the API: demote the primary, promote the secondary, point
    the old primary at the new one with update-primary; a write on the new primary is read on
    the old one."""
    client(a).write("sys/replication/performance/primary/demote")
    client(b).write("sys/replication/performance/secondary/promote")
    mode = client(b).read("sys/replication/performance/status")["data"]["mode"]
    assert mode == "primary", mode
    token = client(b).write("sys/replication/performance/primary/secondary-token",
                            id="dc1")["wrap_info"]["token"]
    client(a).write("sys/replication/performance/secondary/update-primary", token=token)

    def following():
        s = client(a).read("sys/replication/performance/status")["data"]
        return s["mode"] == "secondary" and s["state"] == "stream-wals"

    lib.wait_until(following, 20, "old primary follows the new one")
    w = b.call("POST", "secret/data/after/failover", json={"data": {"v": 1}})
    assert w.status_code == 200, w.text
    r = a.call("GET", "secret/data/after/failover", headers={"X-Vault-Index": w.headers[
        "X-Vault-Index"]})
    assert r.status_code == 200 and r.json()["data"]["data"] == {"v": 1}, r.text
    ok("PUT .../primary/demote, .../secondary/promote, .../secondary/update-primary",
       "planned failover: roles swap, a write on the new primary is read on the old one")


def main():
    binary, workdir = sys.argv[1], lib.fresh_dir(sys.argv[2])
    signal.alarm(240)  # the whole run is bounded
    start = time.time()
    a, b = lib.start_pair(binary, workdir)
    check_sys(a, b, workdir)
    check_mounts(a, b)
    check_replication(a, b)
    check_policies(a, b)
    tokens = check_userpass(a, b)
    check_tokens(a, b, tokens)
    check_kv2(a, b, tokens)
    check_kv1(a, b, tokens)
    check_authorization(a, tokens)
    check_errors(a, tokens)
    check_failover(a, b)
    a.stop()
    b.stop()
    print("vault_hvac_test: %d route groups checked in %.1f s" %
          (len(checked), time.time() - start))


if __name__ == "__main__":
    main()
