#!/usr/bin/env python3
"""Mutation testing of the replication engine (`make mutate`; docs/mutation.md).

Each file mutate/patches/*.mut is one single-change mutant of the engine: a source file, a
text that must occur exactly once in it, and its replacement (a pattern replacement, not a
line-number diff, so a mutant survives refactors that move code; one that no longer matches
is reported as "unanchored" and needs re-anchoring, never silently skipped).

For each mutant, in a scratch copy of the source tree (build-mutate/src, one build directory
reused for every mutant so ninja and ccache rebuild only the mutated file and relink):
  1. apply it and build the test binaries (a mutant that does not compile is "stillborn");
  2. the property layer: each property of the three property binaries at the CI budget
     (RC_PARAMS="max_success=200 seed=1", no shrinking), stopping at the first failure;
  3. the scenario layer, only if the property layer missed it: every scenario of the library
     (scenarios/*.textproto and scenarios/regressions/*.textproto) at seeds 1 and 2, cheapest
     first, stopping at the first failure;
  4. restore the file.
A failure is a non-zero exit or a timeout (a mutant that livelocks is killed). Tests that fail
on the unmutated source (the baseline) cannot kill anything and are reported, not used.

Output: one line per mutant, the score per layer and per module, the survivors with their
module, and a JSON result (--json, default build-mutate/mutation.json).
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROPERTY_TESTS = ["consistency_property_test", "isolation_property_test",
                  "liveness_property_test"]
PROPERTY_PARAMS = "max_success=200 seed=1"
# A mutant needs a verdict, not a shrunk case: no shrinking. Each property runs on its own
# (--gtest_filter), so the layer stops at the first failing property.
MUTANT_PARAMS = PROPERTY_PARAMS + " noshrink=1"
SEEDS = [1, 2]
MODULES = ["storage", "barrier", "wal", "merkle", "aries", "replication", "cluster"]


def parse_mutant(path):
    """A .mut file: '# ' comment lines, '@module M', '@file F', '@@find', text, '@@replace',
    text (the two texts run to the next '@@' line or the end; a final newline is dropped)."""
    m = {"name": os.path.splitext(os.path.basename(path))[0], "path": path, "comment": []}
    section = None
    texts = {"find": [], "replace": []}
    with open(path) as f:
        for line in f.read().split("\n"):
            if line.startswith("@@"):
                section = line[2:].strip()
                if section not in texts:
                    raise ValueError(f"{path}: unknown section @@{section}")
                continue
            if section is not None:
                texts[section].append(line)
            elif line.startswith("@module "):
                m["module"] = line.split(None, 1)[1].strip()
            elif line.startswith("@file "):
                m["file"] = line.split(None, 1)[1].strip()
            elif line.startswith("#"):
                m["comment"].append(line[1:].strip())
    for key in ("module", "file"):
        if key not in m:
            raise ValueError(f"{path}: missing @{key}")
    if m["module"] not in MODULES:
        raise ValueError(f"{path}: module {m['module']} is not one of {MODULES}")
    for key in ("find", "replace"):
        lines = texts[key]
        while lines and lines[-1] == "":
            lines.pop()
        m[key] = "\n".join(lines)
    if not m["find"] or m["find"] == m["replace"]:
        raise ValueError(f"{path}: empty @@find or no change")
    return m


def sync_tree(src_dir):
    """Copies the tracked files of the worktree into src_dir, rewriting only files whose
    content differs (unchanged files keep their mtime, so ninja rebuilds nothing for them).
    Returns a digest of the whole tree (the baseline cache key)."""
    digest = hashlib.sha256()
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        a = os.path.join(ROOT, rel)
        b = os.path.join(src_dir, rel)
        if not os.path.isfile(a):
            continue
        with open(a, "rb") as f:
            data = f.read()
        if not rel.startswith(("mutate/", "docs/")):  # they change no test's verdict
            digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        if os.path.isfile(b):
            with open(b, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        with open(b, "wb") as f:
            f.write(data)
        shutil.copymode(a, b)
    return digest.hexdigest()


RUNNING = set()  # test processes of this script still running (stopped by stop_all)


def run(cmd, cwd, env=None, timeout=None, log=None):
    """(ok, seconds, timed_out); output goes to `log`."""
    start = time.monotonic()
    with open(log or os.devnull, "w") as out:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        RUNNING.add(p)
        try:
            rc = p.wait(timeout=timeout)
            return rc == 0, time.monotonic() - start, False
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return False, time.monotonic() - start, True
        finally:
            RUNNING.discard(p)


class Tests:
    """The test layers, with per-test timeouts from the baseline."""

    def __init__(self, build, src, logs, scenarios):
        self.build, self.src, self.logs = build, src, logs
        self.bin = os.path.join(build, "bin")
        self.scenarios = scenarios
        self.timeout = {}
        self.broken = set()  # failing at baseline

    def properties(self):
        """Each property (binary, gtest name) of the property binaries: a property that fails
        at baseline is set aside on its own, the others of its binary still count."""
        if not hasattr(self, "_properties"):
            self._properties = []
            for t in PROPERTY_TESTS:
                out = subprocess.run([os.path.join(self.bin, t), "--gtest_list_tests"],
                                     capture_output=True, text=True, check=True).stdout
                suite = ""
                for line in out.splitlines():
                    if not line.startswith(" "):
                        suite = line.strip()
                    elif line.strip():
                        self._properties.append((t, suite + line.strip().split()[0]))
        return self._properties

    def layer(self, name):
        if name == "property":
            return [("property", t) for t in self.properties()]
        return [("scenario", (s, seed)) for s in self.scenarios for seed in SEEDS]

    def stop_all(self):
        """Ends the other tests of the layer once one has failed (their verdict is not needed;
        only processes this script started)."""
        self.stopping = True
        for p in list(RUNNING):
            p.kill()

    def label(self, kind, what):
        if kind == "property":
            return what[1]
        return f"{os.path.basename(what[0])[:-10]}.seed{what[1]}"

    def run_one(self, kind, what, tag, timeout):
        log = os.path.join(self.logs, f"{tag}.{self.label(kind, what)}.log")
        env = dict(os.environ)
        if kind == "property":
            env["RC_PARAMS"] = PROPERTY_PARAMS if tag == "baseline" else MUTANT_PARAMS
            env["REPLSIM_FAILURE_DIR"] = os.path.join(self.logs, "property_failures")
            cmd = ["nice", os.path.join(self.bin, what[0]), f"--gtest_filter={what[1]}"]
        else:
            cmd = ["nice", os.path.join(self.bin, "replsim"), "run", what[0], "--seed",
                   str(what[1])]
        return run(cmd, self.src, env=env, timeout=timeout, log=log)


def build(build_dir, jobs, log):
    targets = PROPERTY_TESTS + ["replsim"]
    return run(["nice", "cmake", "--build", build_dir, "-j", str(jobs), "--target"] + targets,
               build_dir, log=log)


def baseline(tests, order_by_cost, parallel, cache_path, tree):
    """Runs every test on the unmutated tree (verdicts cached per tree digest in cache_path, so
    a restarted run does not pay for them again)."""
    cache = {}
    if os.path.isfile(cache_path):
        with open(cache_path) as f:
            cache = json.load(f)
    if cache.get("tree") != tree:
        cache = {"tree": tree, "tests": {}}
    costs = {}
    items = tests.layer("property") + tests.layer("scenario")

    def one(kw):
        label = tests.label(kw[0], kw[1])
        if label not in cache["tests"]:
            ok, secs, _ = tests.run_one(kw[0], kw[1], "baseline", 1800)
            cache["tests"][label] = [ok, secs]
            with open(cache_path, "w") as f:
                json.dump(cache, f)
        return cache["tests"][label]

    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        verdicts = list(pool.map(one, items))
    for (kind, what), (ok, secs) in zip(items, verdicts):
        label = tests.label(kind, what)
        costs[label] = secs
        # Room for a slower machine or a busier moment; a mutant that takes longer
        # than this has livelocked or slowed down pathologically: killed.
        tests.timeout[label] = max(60.0, 4 * secs)
        if not ok:
            tests.broken.add(label)
        print(f"  baseline {label:45s} {'ok' if ok else 'FAILS'} {secs:6.1f} s", flush=True)
    if order_by_cost:
        tests.scenarios.sort(key=lambda s: costs.get(f"{os.path.basename(s)[:-10]}.seed1", 0))
    return costs


def test_mutant(tests, name, parallel):
    """(layer, test) of the first failing test, or (None, None). Within a layer up to
    `parallel` tests run at once; the first failure stops the layer (the rest are abandoned:
    their processes end with their timeout at worst, and their verdicts are not used)."""
    for layer in ("property", "scenario"):
        todo = [(k, w) for k, w in tests.layer(layer) if tests.label(k, w) not in tests.broken]
        with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
            running = {}
            while todo or running:
                while todo and len(running) < parallel:
                    kind, what = todo.pop(0)
                    label = tests.label(kind, what)
                    f = pool.submit(tests.run_one, kind, what, name,
                                    tests.timeout.get(label, 600))
                    running[f] = label
                done, _ = concurrent.futures.wait(
                    running, return_when=concurrent.futures.FIRST_COMPLETED)
                for f in done:
                    label = running.pop(f)
                    ok, _, timed_out = f.result()
                    if not ok:
                        tests.stop_all()
                        return layer, label + (" (timeout)" if timed_out else "")
    return None, None


def apply(src_dir, m):
    path = os.path.join(src_dir, m["file"])
    if not os.path.isfile(path):
        return None, f"no file {m['file']}"
    with open(path) as f:
        original = f.read()
    n = original.count(m["find"])
    if n != 1:
        return None, f"@@find occurs {n} times in {m['file']} (needs re-anchoring)"
    with open(path, "w") as f:
        f.write(original.replace(m["find"], m["replace"]))
    return original, None


def restore(src_dir, m, original):
    with open(os.path.join(src_dir, m["file"]), "w") as f:
        f.write(original)


def summarize(results, wall_s, json_path, quiet=False):
    """Prints the scores (unless quiet) and writes the JSON result."""
    say = (lambda *a, **k: None) if quiet else print
    counted = [r for r in results if r["status"] in ("killed", "survived")]
    total = len(counted)

    def score(pred, rows):
        n = len(rows)
        k = sum(1 for r in rows if pred(r))
        return k, n, (100.0 * k / n if n else 0.0)

    by_property = lambda r: r["layer"] == "property"
    by_any = lambda r: r["status"] == "killed"
    layers = {
        "property": score(by_property, counted),
        "property+scenario": score(by_any, counted),
    }
    say("\nmutation score per layer (killed / mutants that compiled and anchored):")
    for name, (k, n, pct) in layers.items():
        say(f"  {name:20s} {k:3d} / {n:3d}  {pct:5.1f} %")
    say("\nper module (property layer, then property + scenario layers):")
    modules = {}
    for mod in MODULES:
        rows = [r for r in counted if r["module"] == mod]
        p = score(by_property, rows)
        a = score(by_any, rows)
        modules[mod] = {"mutants": len(rows), "killed_by_property": p[0], "killed": a[0]}
        say(f"  {mod:12s} {p[0]:2d}/{p[1]:2d} {p[2]:5.1f} %   {a[0]:2d}/{a[1]:2d} {a[2]:5.1f} %")
    survivors = [r for r in counted if r["status"] == "survived"]
    say(f"\nsurvivors ({len(survivors)}):")
    for r in survivors:
        say(f"  {r['name']:40s} module {r['module']:12s} {r['file']}")
    other = [r for r in results if r["status"] not in ("killed", "survived")]
    if other:
        say(f"\nnot counted ({len(other)}):")
        for r in other:
            say(f"  {r['name']:40s} {r['status']}: {r.get('detail', '')}")
    say(f"\nwall time {wall_s:.0f} s")
    out = {
        "mutants": len(results),
        "counted": total,
        "layers": {k: {"killed": v[0], "of": v[1], "score_percent": round(v[2], 1)}
                   for k, v in layers.items()},
        "modules": modules,
        "survivors": [{"name": r["name"], "module": r["module"], "file": r["file"]}
                      for r in survivors],
        "results": results,
        "wall_s": round(wall_s, 1),
        "property_params": PROPERTY_PARAMS,
        "seeds": SEEDS,
    }
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path, "w") as f:
        json.dump(out, f, indent=1)
    say(f"JSON result: {json_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scratch", default=os.path.join(ROOT, "build-mutate"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--jobs", type=int, default=2, help="build jobs")
    ap.add_argument("--parallel", type=int, default=2, help="tests run at once")
    ap.add_argument("--only", default="", help="regex over mutant names")
    ap.add_argument("--list", action="store_true", help="check every mutant anchors; no build")
    ap.add_argument("--no-scenarios", action="store_true", help="property layer only")
    args = ap.parse_args()
    started = time.monotonic()
    patch_dir = os.path.join(ROOT, "mutate", "patches")
    mutants = [parse_mutant(os.path.join(patch_dir, f))
               for f in sorted(os.listdir(patch_dir)) if f.endswith(".mut")]
    if args.only:
        mutants = [m for m in mutants if re.search(args.only, m["name"])]
    # Round-robin over modules: a run stopped early has still covered every module.
    by_module = {mod: [m for m in mutants if m["module"] == mod] for mod in MODULES}
    mutants = [by_module[mod][i] for i in range(len(mutants)) for mod in MODULES
               if i < len(by_module[mod])]
    if args.list:
        bad = 0
        for m in mutants:
            with open(os.path.join(ROOT, m["file"])) as f:
                n = f.read().count(m["find"])
            bad += n != 1
            print(f"{m['name']:40s} {m['module']:12s} {'ok' if n == 1 else f'{n} matches'}")
        print(f"{len(mutants)} mutants, {bad} not anchored")
        return 1 if bad else 0
    src = os.path.join(args.scratch, "src")
    # The build directory sits inside the copied tree, as build/ does in the worktree: the
    # relative paths of every compile are then the same and ccache (CCACHE_BASEDIR) hits.
    build_dir = os.path.join(src, "build")
    logs = os.path.join(args.scratch, "logs")
    os.makedirs(logs, exist_ok=True)
    print(f"syncing the source into {src}", flush=True)
    tree = sync_tree(src)
    env = dict(os.environ)
    env.setdefault("CCACHE_BASEDIR", os.path.dirname(ROOT))
    os.environ.update(env)
    if not os.path.isfile(os.path.join(build_dir, "build.ninja")):
        ok, _, _ = run(["cmake", "-S", src, "-B", build_dir, "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Release"], src, log=os.path.join(logs, "configure.log"))
        if not ok:
            sys.exit("configure failed: " + os.path.join(logs, "configure.log"))
    ok, secs, _ = build(build_dir, args.jobs, os.path.join(logs, "build.baseline.log"))
    if not ok:
        sys.exit("the unmutated source does not build: " + os.path.join(logs, "build.baseline.log"))
    print(f"baseline build {secs:.0f} s", flush=True)
    scenarios = sorted(
        os.path.join(src, d, f) for d in ("scenarios", "scenarios/regressions")
        if os.path.isdir(os.path.join(src, d))
        for f in os.listdir(os.path.join(src, d)) if f.endswith(".textproto"))
    if args.no_scenarios:
        scenarios = []
    tests = Tests(build_dir, src, logs, scenarios)
    baseline(tests, order_by_cost=True, parallel=args.parallel,
             cache_path=os.path.join(args.scratch, "baseline.json"), tree=tree)
    json_path = args.json or os.path.join(args.scratch, "mutation.json")
    results = []
    for m in mutants:
        r = {"name": m["name"], "module": m["module"], "file": m["file"],
             "why": " ".join(m["comment"])}
        original, error = apply(src, m)
        if original is None:
            r.update(status="unanchored", detail=error)
        else:
            try:
                ok, bsecs, _ = build(build_dir, args.jobs,
                                     os.path.join(logs, f"build.{m['name']}.log"))
                if not ok:
                    r.update(status="stillborn", detail="does not compile")
                else:
                    t0 = time.monotonic()
                    layer, by = test_mutant(tests, m["name"], args.parallel)
                    r.update(status="killed" if layer else "survived", layer=layer, by=by,
                             build_s=round(bsecs, 1), test_s=round(time.monotonic() - t0, 1))
            finally:
                restore(src, m, original)
        print(f"{m['name']:40s} {m['module']:12s} {r['status']:10s} "
              f"{r.get('layer') or ''} {r.get('by') or r.get('detail') or ''}", flush=True)
        results.append(r)
        # The JSON so far after every mutant: a run cut short still has its results.
        summarize(results, time.monotonic() - started, json_path, quiet=True)
    build(build_dir, args.jobs, os.path.join(logs, "build.restore.log"))
    summarize(results, time.monotonic() - started, json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
