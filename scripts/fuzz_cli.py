#!/usr/bin/env python3
"""Fuzz the pafas command line: random argv and random files thrown at every command of the built binary.

Usage: scripts/fuzz_cli.py [--dll PaFas.Host/bin/Release/net10.0/PaFas.Host.dll] [--runs 300] [--minutes 15]
                           [--timeout 90] [--seed 1] [--keep]

Each run draws a command, a random subset of its options (read from `pafas CMD --help`) with random values (numbers at
and past their limits, NaN, junk words, and paths from a pool of good and bad files: a valid manifest, chains, scores,
a trained run, random bytes, an empty file, a 2 MB line, /dev/zero, a folder, a link to an input, a missing file, a
manifest naming a corrupt image, ...), sometimes junk tokens, sometimes global options (--threads up to 10^6,
--device cuda or junk). Costly knobs are capped at the end of the line (the last occurrence wins), so a run is a check
of the command line and the input handling, not a training job.

A run FAILS when
  - the exit code is not 0, 1 or 2 (3 = an unexpected exception, a crash or a signal), or stderr has the line of an
    unexpected exception ("pafas CMD: unexpected ..."; the grammar's "pafas: unexpected argument" is a bad line);
  - it exits 1 or 2 without a one-line "pafas ...: error: ..." message;
  - it does not finish within --timeout seconds (a hang);
  - an input file changed (one not under the run's --out; a command may legitimately rewrite its own output folder,
    which is then restored from a pristine copy);
  - a temporary file (*.tmp-*) is left anywhere in the work folder.
Exit status: 0 when no run failed, 1 otherwise. The result table (markdown) goes to stdout.
"""
import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

COMMANDS = ["synth", "inspect", "annotate", "augment", "sft", "grpo", "eval", "predict", "metrics", "score", "export",
            "pipeline", "split", "bench"]
GLOBAL = {"--threads", "--device", "--seed", "--verbose", "-v", "--help"}
# Appended last (the last occurrence of an option wins): keeps every run short.
CAPS = {
    "sft": ["--steps", "2", "--model-size", "tiny", "--eval-every", "0", "--save-every", "0", "--batch", "4"],
    "grpo": ["--steps", "1", "--prompts", "1", "--group", "2", "--max-new", "8", "--iterations", "1", "--eval-every", "0"],
    "eval": ["--max-new", "8"],
    "predict": ["--max-new", "8"],
    "score": ["--max-new", "8"],
    "pipeline": ["--sft-steps", "1", "--grpo-steps", "1", "--per-domain", "8", "--model-size", "tiny"],
    "bench": ["--what", "synth", "--repeat", "1"],
    "synth": ["--per-domain", "4", "--size", "32"],
    "augment": ["--paths", "2"],
}


def sh(dll, args, cwd, timeout):
    t0 = time.time()
    try:
        p = subprocess.run(["dotnet", dll] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
        return p.returncode, p.stdout, p.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        return None, "", (e.stderr or b"").decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or ""), time.time() - t0


def options_of(dll, cmd, cwd):
    _, out, _, _ = sh(dll, [cmd, "--help"], cwd, 60)
    opts = []
    for m in re.finditer(r"^\s{4}(--[a-z][a-z0-9-]*)(?: <([^>]+)>)?", out, re.M):
        if m.group(1) not in GLOBAL:
            opts.append((m.group(1), m.group(2)))
    return opts


def tree_hashes(root):
    h = {}
    for d, dirs, files in os.walk(root, followlinks=False):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p):
                continue
            with open(p, "rb") as fh:
                h[os.path.relpath(p, root)] = hashlib.sha1(fh.read()).hexdigest()
    return h


def strays(root):
    found = []
    for d, dirs, files in os.walk(root):
        for f in files + dirs:
            if ".tmp-" in f:
                found.append(os.path.join(d, f))
    return found


def setup(dll, work):
    """The input pool: a synthetic world, annotations, chains, a trained run, scores, and bad files."""
    inp = os.path.join(work, "inputs")
    os.makedirs(inp)
    def run(args):
        rc, out, err, _ = sh(dll, ["--threads", "1"] + args, inp, 600)
        if rc != 0:
            sys.exit(f"setup failed: pafas {' '.join(args)}\n{err}")
    run(["synth", "--out", "world", "--per-domain", "12", "--size", "32"])
    run(["annotate", "--data", "world/manifest.jsonl", "--out", "ann.jsonl"])
    run(["augment", "--data", "world/manifest.jsonl", "--annotations", "ann.jsonl", "--out", "chains.jsonl", "--paths", "2"])
    run(["sft", "--chains", "chains.jsonl", "--out", "run", "--model-size", "tiny", "--steps", "2"])
    run(["split", "--data", "world/manifest.jsonl", "--protocol", "p1-W", "--out", "split", "--val-fraction", "0.3"])
    with open(os.path.join(inp, "scores.csv"), "w") as f:
        f.write("score,label\n0.9,1\n0.2,0\n0.7,1\n0.4,0\n")
    with open(os.path.join(inp, "scores_reordered.csv"), "w") as f:
        f.write("label,id,score\n1,a,0.9\n0,b,0.2\n0,a,0.3\n")
    rnd = random.Random(7)
    with open(os.path.join(inp, "random.bin"), "wb") as f:
        f.write(bytes(rnd.getrandbits(8) for _ in range(4096)))
    open(os.path.join(inp, "empty.jsonl"), "w").close()
    with open(os.path.join(inp, "longline.jsonl"), "w") as f:
        f.write("{\"id\": \"" + "x" * (2 << 20) + "\"}\n")
    with open(os.path.join(inp, "garbage.jsonl"), "w") as f:
        f.write("{not json\n{\"id\": 3}\n[1,2]\nnull\n\"str\"\n")
    with open(os.path.join(inp, "world", "rgb", "corrupt.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(rnd.getrandbits(8) for _ in range(200)))
    lines = open(os.path.join(inp, "world", "manifest.jsonl")).read().splitlines()
    lines[1] = re.sub(r'"rgb":\s*"[^"]*"', '"rgb": "rgb/corrupt.png"', lines[1])
    lines[2] = re.sub(r'"rgb":\s*"[^"]*"', '"rgb": "rgb/missing.png"', lines[2])
    with open(os.path.join(inp, "world", "bad.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.symlink("world/manifest.jsonl", os.path.join(inp, "link.jsonl"))
    os.makedirs(os.path.join(inp, "folder"))
    return inp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dll", default="PaFas.Host/bin/Release/net10.0/PaFas.Host.dll")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    dll = os.path.abspath(a.dll)
    if not os.path.exists(dll):
        sys.exit(f"{dll}: not built (dotnet build PaFas.Host -c Release)")
    work = tempfile.mkdtemp(prefix="pafas-fuzz-")
    inp = setup(dll, work)
    pristine = os.path.join(work, "pristine")
    shutil.copytree(inp, pristine, symlinks=True)
    good = tree_hashes(inp)
    rnd = random.Random(a.seed)
    opts = {c: options_of(dll, c, inp) for c in COMMANDS}
    paths = ["world/manifest.jsonl", "world/bad.jsonl", "chains.jsonl", "ann.jsonl", "run", "run/final", "split/val.jsonl",
             "split/test.jsonl", "scores.csv", "scores_reordered.csv", "random.bin", "empty.jsonl", "longline.jsonl",
             "garbage.jsonl", "/dev/zero", "folder", "link.jsonl", "missing.jsonl", "world/rgb/corrupt.png",
             "world/rgb/" + sorted(os.listdir(os.path.join(inp, "world", "rgb")))[0], "../inputs/chains.jsonl", ""]
    outs = ["out/new.jsonl", "out/dir", "out/x.csv", "run", "chains.jsonl", "world/manifest.jsonl", "folder", "link.jsonl",
            "scores.csv/sub/x", "split", "../inputs/ann.jsonl", "out/a/../b.jsonl"]
    junk = ["", "-", "--", "nan", "NaN", "inf", "-1", "0", "1e308", "99999999999", "é", "a,b,,c", "--bogus", "💥", "C,P,S,W", "p1-W"]

    # Valid values of the enumerated options, drawn 70% of the time so that runs get past the grammar.
    valid = {"--protocol": ["p1-W", "p3-PS", "p2-W-depth"], "--format": ["llava", "trl", "sharegpt", "vlm-r1", "safetensors"],
             "--kind": ["sft", "grpo"], "--model-size": ["tiny", "small"], "--drop": ["none", "depth", "ir", "depth,ir"],
             "--what": ["synth", "augment", "synth,augment"], "--mode": ["pnrps", "raw"], "--shuffle": ["answer", "path", "none"],
             "--reward-mode": ["exact", "binary", "hierarchical"], "--schedule": ["cosine", "constant", "linear"], "--loss": ["grpo", "dapo"],
             "--scale": ["group", "batch", "none"], "--domains": ["C,P", "W", "C,P,S,W"], "--val-domains": ["C,P"],
             "--holdout": ["W", "C"], "--recipe": ["default", "demo", "paper"], "--model": ["run", "run/final"],
             "--alpha": ["1.5", "2"], "--val-fraction": ["0.3", "0.5"], "--threshold": ["0.5", "0.1"], "--top-p": ["0.9", "1"]}

    def value(kind, name):
        if name == "--out":
            return rnd.choice(outs)
        if name in valid and rnd.random() < 0.7:
            return rnd.choice(valid[name])
        if "|" in kind and name not in valid and rnd.random() < 0.7:
            return rnd.choice(kind.split("|"))
        if kind in ("int", "tokens", "n"):
            return rnd.choice(["1", "2", "4"]) if rnd.random() < 0.7 else rnd.choice(["0", "-1", "1000000", "2147483648", "x"])
        if kind in ("double", "float", "x"):
            return rnd.choice(["0.3", "0.5"]) if rnd.random() < 0.7 else rnd.choice(["0", "1", "-0.1", "1.5", "nan", "inf", "1e-9", "x"])
        if rnd.random() < 0.7:
            return rnd.choice(paths)
        return rnd.choice(junk)

    stats = {c: {"runs": 0, "0": 0, "1": 0, "2": 0, "fail": 0, "max_s": 0.0} for c in COMMANDS}
    failures = []
    t_end = time.time() + 60 * a.minutes
    n = 0
    while n < a.runs and time.time() < t_end:
        n += 1
        cmd = COMMANDS[(n - 1) % len(COMMANDS)] if n <= len(COMMANDS) else rnd.choice(COMMANDS)
        argv = []
        if rnd.random() < 0.3:
            argv += ["--threads", rnd.choice(["1", "2", "8", "9", "1000", "1000000", "-3", "x"])]
        if rnd.random() < 0.1:
            argv += ["--device", rnd.choice(["cuda", "cuda:3", "tpu", "CPU"])]
        argv.append(cmd)
        for name, kind in rnd.sample(opts[cmd], k=min(len(opts[cmd]), rnd.randint(0, 5))):
            argv.append(name)
            if kind is not None:
                argv.append(value(kind, name))
        if rnd.random() < 0.05:
            argv.insert(rnd.randrange(len(argv) + 1), rnd.choice(junk))
        argv += CAPS.get(cmd, [])
        if "--threads" not in argv:
            argv = ["--threads", "1"] + argv
        rc, out, err, secs = sh(dll, argv, inp, a.timeout)
        s = stats[cmd]
        s["runs"] += 1
        s["max_s"] = max(s["max_s"], secs)
        why = []
        if rc is None:
            why.append(f"hang (> {a.timeout:.0f} s)")
        elif rc not in (0, 1, 2):
            why.append(f"exit {rc}")
        elif re.search(r"^pafas [a-z]+: unexpected ", err, re.M):
            why.append("'unexpected' on stderr")
        elif rc in (1, 2) and not re.search(r"^pafas[^\n]*: (error: )?\S|^\S* ?fail: pafas\[0\] \w+: \S", err, re.M):
            why.append("no one-line error message")
        if rc in (0, 1, 2):
            s[str(rc)] += 1
        st = strays(work)
        if st:
            why.append("temporary files left: " + ", ".join(os.path.relpath(x, work) for x in st[:3]))
            for x in st:
                shutil.rmtree(x, ignore_errors=True) if os.path.isdir(x) else os.remove(x)
        now = tree_hashes(inp)
        changed = sorted(k for k in set(good) | set(now) if good.get(k) != now.get(k))
        if changed:
            out_arg = argv[argv.index("--out") + 1] if "--out" in argv else None
            if cmd in ("sft", "grpo", "pipeline", "synth", "split", "bench", "eval", "metrics", "export", "score", "predict", "annotate", "augment") and out_arg is None:
                # the command's default output under runs/ is inside the inputs folder: new files only, fine
                out_arg = "runs"
            out_real = os.path.realpath(os.path.join(inp, out_arg)) if out_arg else None
            own = [k for k in changed if out_real and (os.path.realpath(os.path.join(inp, k)) + "/").startswith(out_real.rstrip("/") + "/")
                   or out_real and os.path.realpath(os.path.join(inp, k)) == out_real]
            foreign = [k for k in changed if k not in own and k in good]
            if foreign:
                why.append("input changed: " + ", ".join(foreign[:3]))
            shutil.rmtree(inp)
            shutil.copytree(pristine, inp, symlinks=True)
        shutil.rmtree(os.path.join(inp, "out"), ignore_errors=True)
        shutil.rmtree(os.path.join(inp, "runs"), ignore_errors=True)
        if why:
            s["fail"] += 1
            failures.append((cmd, rc, "; ".join(why), " ".join(argv), (err.strip().splitlines() or [""])[-1][:300]))
        print(f"[{n}] {cmd} rc={rc} {secs:.1f}s {'FAIL ' + '; '.join(why) if why else ''}", file=sys.stderr, flush=True)

    print(f"pafas fuzz: {n} runs, seed {a.seed}, timeout {a.timeout:.0f} s per run\n")
    print("| command | runs | exit 0 | exit 1 | exit 2 | failures | slowest (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    tot = {k: 0 for k in ("runs", "0", "1", "2", "fail")}
    for c in COMMANDS:
        s = stats[c]
        for k in tot:
            tot[k] += s[k]
        print(f"| {c} | {s['runs']} | {s['0']} | {s['1']} | {s['2']} | {s['fail']} | {s['max_s']:.1f} |")
    print(f"| all | {tot['runs']} | {tot['0']} | {tot['1']} | {tot['2']} | {tot['fail']} | |")
    for cmd, rc, why, line, last in failures:
        print(f"\nFAIL {cmd} (exit {rc}): {why}\n  pafas {line}\n  stderr: {last}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"\nwork folder: {work}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
