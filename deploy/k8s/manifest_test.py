#!/usr/bin/env python3
"""deploy/k8s and deploy/Dockerfile name a replsim that exists and works.

usage: manifest_test.py REPO_DIR REPLSIM WORK_DIR
Parses the manifests (python3-yaml) and checks: swarm-job.yaml is an Indexed Job whose SHARDS
equals its completions and whose --shard is JOB_COMPLETION_INDEX/SHARDS; every flag the Jobs
pass exists in `replsim swarm --help` / `replsim merge --help`; the scenario it names is in
scenarios/ (the image copies scenarios/ to /opt/replsim/scenarios); both Jobs mount the
claim results-pvc.yaml defines. Then runs each of 4 indices' container command line (the
manifest's own shell text) against REPLSIM on a small scenario, and the merge Job's command,
and checks the merge is complete. The Dockerfile's runtime stage installs the Debian package
of every shared library REPLSIM loads. The CI template (.github/workflows/nightly-swarm.yml)
is nightly, its matrix is the SHARDS shards, its replsim command lines use documented flags
and it uploads the merged summary, JUnit files and failure files. Planted bad manifests (an unknown flag, SHARDS not
equal to completions) must be caught.
"""
import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml

REPO, REPLSIM, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
K8S = os.path.join(REPO, "deploy", "k8s")
TINY = os.path.join(REPO, "cli", "testdata", "tiny.textproto")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
results = {"passed": 0, "failed": 0}


def check(condition, what):
    print("ok  " if condition else "FAIL", what, flush=True)
    results["passed" if condition else "failed"] += 1
    return condition


def load(name):
    with open(os.path.join(K8S, name)) as f:
        return list(yaml.safe_load_all(f))


def container(job):
    return job["spec"]["template"]["spec"]["containers"][0]


def env_of(job):
    return {e["name"]: e["value"] for e in container(job).get("env", [])}


def shell_text(job):
    c = container(job)
    assert c["command"] == ["/bin/sh", "-c"], c["command"]
    return c["args"][0]


def help_flags(verb):
    out = subprocess.run([REPLSIM, verb, "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"--[a-z][a-z-]*", out))


def unknown_flags(job, verb):
    """Flags the Job passes to `replsim VERB` that the binary does not document."""
    words = shlex.split(shell_text(job).split(";")[0])
    if words[:2] != ["replsim", verb]:
        return {"<not a replsim " + verb + " command line>"}
    return {w for w in words if w.startswith("--")} - help_flags(verb)


def shard_problems(job):
    problems = []
    spec = job["spec"]
    if spec.get("completionMode") != "Indexed":
        problems.append("not an Indexed Job")
    if str(spec.get("completions")) != env_of(job).get("SHARDS"):
        problems.append(f"SHARDS {env_of(job).get('SHARDS')} != completions {spec.get('completions')}")
    if '--shard "$JOB_COMPLETION_INDEX/$SHARDS"' not in shell_text(job):
        problems.append("--shard is not JOB_COMPLETION_INDEX/SHARDS")
    return problems


(swarm,) = load("swarm-job.yaml")
(merge,) = load("merge-job.yaml")
(pvc,) = load("results-pvc.yaml")
check(swarm["apiVersion"] == "batch/v1" and swarm["kind"] == "Job", "swarm-job.yaml is a Job")
check(not shard_problems(swarm), f"Indexed, SHARDS == completions, --shard from the index "
      f"{shard_problems(swarm)}")
check(not unknown_flags(swarm, "swarm"), f"swarm flags exist {unknown_flags(swarm, 'swarm')}")
check(not unknown_flags(merge, "merge"), f"merge flags exist {unknown_flags(merge, 'merge')}")
scenario = env_of(swarm)["SCENARIO"]
check(scenario.startswith("/opt/replsim/scenarios/") and
      os.path.exists(os.path.join(REPO, "scenarios", os.path.basename(scenario))),
      f"the scenario {scenario} is in scenarios/")
claims = {v["persistentVolumeClaim"]["claimName"]
          for job in (swarm, merge) for v in job["spec"]["template"]["spec"]["volumes"]}
check(claims == {pvc["metadata"]["name"]} and "ReadWriteMany" in pvc["spec"]["accessModes"],
      "both Jobs mount the ReadWriteMany claim results-pvc.yaml defines")

# Planted bad manifests: the checks above must catch them.
bad = copy.deepcopy(swarm)
container(bad)["args"][0] = shell_text(bad).replace("--jobs 1", "--workers 1")
check(unknown_flags(bad, "swarm") == {"--workers"}, "a planted unknown flag is caught")
bad = copy.deepcopy(swarm)
bad["spec"]["completions"] = 32
check(shard_problems(bad), "a planted SHARDS != completions is caught")

# Run the manifests' own command lines, as Kubernetes would, on a small scenario.
bin_dir = os.path.join(WORK, "bin")
os.makedirs(bin_dir)
os.symlink(REPLSIM, os.path.join(bin_dir, "replsim"))
out = os.path.join(WORK, "results")
os.makedirs(out)
base = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"], TMPDIR=WORK)
pod_env = {**base, **env_of(swarm), "SCENARIO": TINY, "SEEDS": "1..8", "SHARDS": "4", "RESULTS": out}
for index in range(4):
    p = subprocess.run(["/bin/sh", "-c", shell_text(swarm)], capture_output=True, text=True,
                       env=dict(pod_env, JOB_COMPLETION_INDEX=str(index)), timeout=240)
    check(p.returncode == 0, f"pod {index}: the container command succeeds ({p.stderr[-300:]})")
p = subprocess.run(["/bin/sh", "-c", shell_text(merge)], capture_output=True, text=True,
                   env={**base, **env_of(merge), "RESULTS": out}, timeout=240)
merged = json.load(open(os.path.join(out, "merged.json")))
check(p.returncode in (0, 1) and sorted(merged["shards"]) == ["0/4", "1/4", "2/4", "3/4"] and
      not merged.get("missing_seeds") and len(merged["seeds"]) == 8,
      f"the merge Job's command merges 4 pods' journals, no seed missing ({p.returncode})")
check(os.path.exists(os.path.join(out, "junit.xml")), "the merge Job writes junit.xml")

# The image: built with the repository's bootstrap; its runtime stage has every library.
dockerfile = open(os.path.join(REPO, "deploy", "Dockerfile")).read()
check("scripts/bootstrap" in dockerfile and "FROM debian:" in dockerfile,
      "the image is Debian built with scripts/bootstrap")
runtime = dockerfile.split("FROM debian:")[-1]
libs = [l.split("=>")[1].split()[0] for l in
        subprocess.run(["ldd", REPLSIM], capture_output=True, text=True).stdout.splitlines()
        if "=>" in l and "/" in l.split("=>")[1]]
base_packages = {"libc6", "libgcc-s1"}  # in every Debian image
missing = []
for lib in libs:
    # dpkg knows each file under the path its package shipped (/lib or /usr/lib: usrmerge).
    p = subprocess.run(["dpkg", "-S", "*/" + os.path.basename(lib)], capture_output=True,
                       text=True)
    tail = "/" + "/".join(lib.split("/")[-2:])  # e.g. /x86_64-linux-gnu/libm.so.6
    owners = [l.split(":")[0] for l in p.stdout.splitlines()
              if l.split(": ", 1)[-1].endswith(tail)]
    package = owners[0] if owners else f"? ({lib})"
    if package not in base_packages and not re.search(rf"\b{re.escape(package)}\b", runtime):
        missing.append(package)
check(libs and not missing, f"the runtime stage installs every library's package {missing}")
check("COPY scenarios/*.textproto /opt/replsim/scenarios/" in runtime,
      "the image holds the scenarios where the Job looks")

# The CI template: nightly, a matrix over SHARDS shards, and only flags replsim documents.
workflow_path = os.path.join(REPO, ".github", "workflows", "nightly-swarm.yml")
workflow = yaml.safe_load(open(workflow_path))
triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
check("schedule" in triggers, "the CI template runs nightly (schedule)")
matrix = workflow["jobs"]["swarm"]["strategy"]["matrix"]["shard"]
check(matrix == list(range(int(workflow["env"]["SHARDS"]))), "the matrix is shards 0..SHARDS-1")
ci_unknown = set()
ci_verbs = set()
for job in workflow["jobs"].values():
    for step in job["steps"]:
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            m = re.search(r"bin/replsim (\w[\w-]*)(.*)", line)
            if m:
                ci_verbs.add(m.group(1))
                flags = {w for w in shlex.split(m.group(2)) if w.startswith("--")}
                ci_unknown |= flags - help_flags(m.group(1))
check(ci_verbs == {"swarm", "merge", "run"} and not ci_unknown,
      f"the CI template's replsim command lines use documented flags {ci_verbs} {ci_unknown}")
uploads = " ".join(str(step.get("with", {}).get("path", "")) for job in workflow["jobs"].values()
                   for step in job["steps"] if "upload-artifact" in step.get("uses", ""))
check(all(a in uploads for a in ["merged/", "ctest-junit.xml", "property_failures/"]),
      "CI artifacts: merged summary + JUnit + failure files, property JUnit + shrunk cases")

print(f"{results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
