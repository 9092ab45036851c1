#!/usr/bin/env python3
"""A real single-host Slurm runs a 4-task swarm array: the merged result equals one swarm.

usage: slurm_soak_test.py REPO_DIR REPLSIM WORK_DIR
Starts, for the duration of the test only and inside WORK_DIR: munged (its own key and
socket), slurmctld and slurmd (own slurm.conf, state, spool and logs, on free loopback ports);
submits scripts/swarm_slurm --shards 4 --wait (deploy/slurm/swarm.sbatch as --array=0-3 and
the merge job after it); checks the merged result has the 4 shards, no missing seed and equals
`replsim swarm` over the same seeds seed for seed (verdict, trace hash); cancels whatever is
left and stops the three daemons it started. Every wait is bounded. Label slow (make soak).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

REPO, REPLSIM, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
SCENARIO = os.path.join(REPO, "cli", "testdata", "tiny.textproto")
SEEDS = "1..8"
SBIN = ["/usr/sbin", "/usr/bin"]
results = {"passed": 0, "failed": 0}
started = []  # Popen of the daemons this test started, stopped in reverse order


def check(condition, what):
    print("ok  " if condition else "FAIL", what, flush=True)
    results["passed" if condition else "failed"] += 1
    return condition


def tool(name):
    found = shutil.which(name, path=os.pathsep.join(SBIN + [os.environ.get("PATH", "")]))
    if not found:
        sys.exit(f"{name} not found (scripts/bootstrap installs slurm-wlm and munge)")
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, predicate, timeout_s):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    print(f"timed out after {timeout_s} s waiting for {what}", flush=True)
    return False


def start(name, args, env, log):
    p = subprocess.Popen(args, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                         start_new_session=True)
    started.append((name, p))
    return p


def stop_all(env):
    # Jobs first (their slurmstepd would outlive slurmd), then the daemons, newest first.
    subprocess.run([tool("scancel"), "--user", "root"], env=env, capture_output=True,
                   timeout=30)
    for name, p in reversed(started):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        print(f"stopped {name} (pid {p.pid}, exit {p.returncode})", flush=True)


def slurm_conf(work, munge_socket):
    host = socket.gethostname().split(".")[0]
    return f"""ClusterName=replsimtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={work}/state
SlurmdSpoolDir={work}/spool
SlurmctldPidFile={work}/slurmctld.pid
SlurmdPidFile={work}/slurmd.pid
SlurmctldLogFile={work}/log/slurmctld.log
SlurmdLogFile={work}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def start_cluster(env):
    munge_dir = os.path.join(WORK, "munge")
    os.makedirs(munge_dir, mode=0o711)
    os.chmod(munge_dir, 0o711)  # munged: the socket's directory must be executable by all
    key = os.path.join(munge_dir, "munge.key")
    with open(key, "wb") as f:
        f.write(os.urandom(1024))
    os.chmod(key, 0o400)
    sock = os.path.join(munge_dir, "munge.sock")
    start("munged", [tool("munged"), "--foreground", f"--key-file={key}", f"--socket={sock}",
                     f"--pid-file={munge_dir}/munged.pid", f"--log-file={munge_dir}/munged.log",
                     f"--seed-file={munge_dir}/munged.seed"], env, f"{WORK}/log/munged.out")
    if not check(wait_for("the munge socket", lambda: os.path.exists(sock), 20), "munged up"):
        return False
    for d in ["state", "spool"]:
        os.makedirs(os.path.join(WORK, d))
    with open(env["SLURM_CONF"], "w") as f:
        f.write(slurm_conf(WORK, sock))
    start("slurmctld", [tool("slurmctld"), "-D", "-i"], env, f"{WORK}/log/slurmctld.out")
    start("slurmd", [tool("slurmd"), "-D"], env, f"{WORK}/log/slurmd.out")

    def idle():
        p = subprocess.run([tool("sinfo"), "-h", "-o", "%T"], env=env, capture_output=True,
                           text=True, timeout=10)
        return p.returncode == 0 and p.stdout.strip() == "idle"

    return check(wait_for("the node to be idle", idle, 60), "slurmctld + slurmd up, node idle")


def by_seed(result):
    return {int(s["seed"]): (s.get("passed", False), s["trace_hash"]) for s in result["seeds"]}


def run_array(env):
    out = os.path.join(WORK, "results")
    t0 = time.time()
    p = subprocess.run([os.path.join(REPO, "scripts", "swarm_slurm"), SCENARIO, "--seeds", SEEDS,
                        "--shards", "4", "--out", out, "--replsim", REPLSIM, "--wait"],
                       env=env, capture_output=True, text=True, timeout=300)
    print(p.stdout, p.stderr, f"array + merge: {time.time() - t0:.1f} s", flush=True)
    check(p.returncode in (0, 1), f"the merge job ends with 0 or 1 ({p.returncode})")
    merged_path = os.path.join(out, "merged.json")
    if not check(os.path.exists(merged_path), "merged.json written by the merge job"):
        return
    merged = json.load(open(merged_path))
    check(sorted(merged["shards"]) == ["0/4", "1/4", "2/4", "3/4"], "4 array tasks merged")
    check(not merged.get("missing_seeds"), "no seed missing")
    single = os.path.join(WORK, "single.json")
    subprocess.run([REPLSIM, "swarm", SCENARIO, "--seeds", SEEDS, "--jobs", "2", "--json", single],
                   env=env, capture_output=True, timeout=240)
    check(by_seed(merged) == by_seed(json.load(open(single))),
          "merged == one swarm over the same seeds, seed for seed (verdict, trace hash)")
    check(all(os.path.exists(os.path.join(out, f"task-{i}.log")) for i in range(4)),
          "each array task wrote its log")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "log"))
    env = dict(os.environ, SLURM_CONF=os.path.join(WORK, "slurm.conf"), TMPDIR=WORK)
    t0 = time.time()
    try:
        if start_cluster(env):
            run_array(env)
    finally:
        stop_all(env)
    if results["failed"]:
        for log in sorted(os.listdir(os.path.join(WORK, "log"))):
            print(f"--- {log} (tail)\n" + open(os.path.join(WORK, "log", log)).read()[-1500:])
    print(f"slurm test took {time.time() - t0:.1f} s")
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


main()
