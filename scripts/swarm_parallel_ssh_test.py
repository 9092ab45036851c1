#!/usr/bin/env python3
"""scripts/swarm_parallel --sshlogin: 4 shards over ssh (to an sshd this test starts on
loopback), the binary and scenario copied with --basefile, results brought back with --return,
merged equal seed for seed to one `replsim swarm`; the remote work directory is removed.

usage: swarm_parallel_ssh_test.py REPO_DIR REPLSIM WORK_DIR
Starts /usr/sbin/sshd (own host key, own authorized key, 127.0.0.1 on a free port, password
logins off) for the test only and stops it. Label slow (make soak): needs openssh-server and
rsync (GNU parallel transfers files with rsync).
"""
import getpass
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time

REPO, REPLSIM, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
SCENARIO = os.path.join(REPO, "cli", "testdata", "tiny.textproto")
SEEDS = "1..8"
results = {"passed": 0, "failed": 0}


def check(condition, what):
    print("ok  " if condition else "FAIL", what, flush=True)
    results["passed" if condition else "failed"] += 1
    return condition


def by_seed(result):
    return {int(s["seed"]): (s.get("passed", False), s["trace_hash"]) for s in result["seeds"]}


for tool in ["/usr/sbin/sshd", "rsync", "ssh", "ssh-keygen"]:
    if not shutil.which(tool):
        sys.exit(f"{tool} not found (scripts/bootstrap installs openssh-server and rsync)")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK, mode=0o700)
keys = os.path.join(WORK, "keys")
os.makedirs(keys, mode=0o700)
for name in ["host", "user"]:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{keys}/{name}"],
                   check=True, timeout=30)
shutil.copy(f"{keys}/user.pub", f"{keys}/authorized_keys")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
config = os.path.join(WORK, "sshd_config")
open(config, "w").write(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {keys}/host
AuthorizedKeysFile {keys}/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PidFile {WORK}/sshd.pid
""")
os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege-separation directory
sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", config, "-E", f"{WORK}/sshd.log"],
                        start_new_session=True)
ssh = (f"ssh -p {port} -i {keys}/user -o StrictHostKeyChecking=no "
       f"-o UserKnownHostsFile={keys}/known_hosts -o BatchMode=yes")
login = f"{getpass.getuser()}@127.0.0.1"
home = os.path.expanduser("~")
before = set(glob.glob(os.path.join(home, "replsim-swarm-*")))
try:
    up = False
    for _ in range(40):  # bounded: 20 s
        if subprocess.run(ssh.split() + [login, "true"], capture_output=True,
                          timeout=20).returncode == 0:
            up = True
            break
        time.sleep(0.5)
    if check(up, f"sshd on 127.0.0.1:{port} accepts the test key"):
        out = os.path.join(WORK, "out")
        t0 = time.time()
        p = subprocess.run([os.path.join(REPO, "scripts", "swarm_parallel"), SCENARIO,
                            "--seeds", SEEDS, "--shards", "4", "--replsim", REPLSIM, "--out", out,
                            "--sshlogin", f"4/{ssh} {login}"],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, TMPDIR=WORK))
        print(p.stdout, p.stderr[-2000:], f"{time.time() - t0:.1f} s", flush=True)
        check(p.returncode in (0, 1), f"swarm_parallel over ssh exits 0 or 1 ({p.returncode})")
        joblog = open(os.path.join(out, "joblog")).read().splitlines()[1:]
        check(len(joblog) == 4 and all("ssh -p" in line for line in joblog),
              "GNU parallel ran the 4 shards through ssh (joblog hosts)")
        merged = json.load(open(os.path.join(out, "merged.json")))
        check(sorted(merged["shards"]) == ["0/4", "1/4", "2/4", "3/4"] and
              not merged.get("missing_seeds"), "every shard's journal came back (--return)")
        single = os.path.join(WORK, "single.json")
        subprocess.run([REPLSIM, "swarm", SCENARIO, "--seeds", SEEDS, "--jobs", "2", "--json",
                        single], capture_output=True, timeout=240, env=dict(os.environ, TMPDIR=WORK))
        single_result = json.load(open(single))
        check(by_seed(merged) == by_seed(single_result),
              "merged == one swarm, seed for seed (verdict, trace hash)")
        check(merged["build_id"] == single_result["build_id"],
              "the copied binary has the same build id")
        left = set(glob.glob(os.path.join(home, "replsim-swarm-*"))) - before
        left_files = [f for d in left for f in os.listdir(d)]
        check(not left_files, f"--cleanup removed the remote copies {left_files}")
        for d in left:  # the empty run directory itself (GNU parallel leaves it)
            os.rmdir(d)
finally:
    sshd.terminate()
    sshd.wait(timeout=20)
    print(f"stopped sshd (pid {sshd.pid})")
print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
