#!/usr/bin/env python3
"""Tables of scripts/experiments.sh runs, in the paper's layout: mean +- std over the seeds that have finished.

Usage: python3 scripts/results_tables.py [runs/exp] [--svg docs/results/zero_std.svg]
                                         [--compare OTHER --labels "pretrained,from scratch"] > docs/results_tables.md

Reads <root>/cells/<protocol>/<variant>-N<N>-s<seed>/{eval,eval-sft,eval-drop-*}/metrics.json and grpo/metrics.jsonl
(an experiments.sh folder under runs/, or the copy of its small files that scripts/collect_results.sh makes under
docs/results/). --compare OTHER adds head-to-head tables of the same variant, split and seed in the two roots (e.g. the
pretrained backbone against from scratch), and whether the ranking of PA-FAS against raw labels changes.
Only the standard library. A cell that has not run shows '-'; '(n)' after a value is the number of seeds behind it.
"""
import json
import math
import os
import sys

DOMAIN_NAMES = {"C": "CASIA-CeFA", "P": "PADISI", "S": "CASIA-SURF", "W": "WMCA"}
P1 = [("p1-W", "CPS->W"), ("p1-S", "CPW->S"), ("p1-P", "CSW->P"), ("p1-C", "PSW->C")]
P3 = [("p3-PS", "CW->PS"), ("p3-CW", "PS->CW")]
DROPS = [("depth", "missing depth"), ("ir", "missing IR"), ("depth-ir", "missing depth + IR")]
# (label, variant, eval folder prefix): the rows of the method tables.
METHODS = [
    ("raw labels, SFT", "raw", "eval-sft"),
    ("raw labels, SFT + GRPO", "raw", "eval"),
    ("PNRPS, no shuffle, SFT + GRPO", "none", "eval"),
    ("PNRPS, path shuffle, SFT + GRPO", "path", "eval"),
    ("PA-FAS: PNRPS, answer shuffle, SFT + GRPO", "answer", "eval"),
]
SHUFFLES = [("none", "no shuffle"), ("path", "path shuffle"), ("answer", "answer shuffle")]
VARIANT_NAMES = {"raw": "raw labels", "none": "PNRPS, no shuffle", "path": "PNRPS, path shuffle", "answer": "PNRPS, answer shuffle"}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def seeds_of(root, protocol, variant, n):
    d = os.path.join(root, "cells", protocol)
    if not os.path.isdir(d):
        return []
    prefix = f"{variant}-N{n}-s"
    return sorted(int(x[len(prefix):]) for x in os.listdir(d) if x.startswith(prefix) and x[len(prefix):].isdigit())


def cell_metrics(root, protocol, variant, n, seed, folder):
    """metrics.json of one cell's evaluation folder; None when it has not run."""
    return load(os.path.join(root, "cells", protocol, f"{variant}-N{n}-s{seed}", folder, "metrics.json"))


def metrics(root, protocol, variant, n, folder):
    """metrics.json of every seed that has it."""
    out = []
    for s in seeds_of(root, protocol, variant, n):
        m = cell_metrics(root, protocol, variant, n, s, folder)
        if m is not None:
            out.append(m)
    return out


def mean_sd(vals):
    """(mean, sample standard deviation) of a non-empty list; the deviation is None for one value."""
    mean = sum(vals) / len(vals)
    if len(vals) == 1:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1))


def stat(values, scale=100.0):
    vals = [v * scale for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return "-"
    mean, std = mean_sd(vals)
    return f"{mean:.2f} (1)" if std is None else f"{mean:.2f}+-{std:.2f} ({len(vals)})"


def per_seed(root, protocols, variant, n, folder, key):
    """The metric of each protocol, per seed that has every protocol finished: {seed: [values]}."""
    out = {}
    for p in protocols:
        for s in seeds_of(root, p, variant, n):
            m = cell_metrics(root, p, variant, n, s, folder)
            if m is not None:
                out.setdefault(s, []).append(m[key])
    return {s: v for s, v in out.items() if len(v) == len(protocols)}


def mean_over(root, protocols, variant, n, folder, key):
    """Per seed: the mean over the protocols of that seed that have all of them finished; one value per such seed."""
    return [sum(v) / len(v) for v in per_seed(root, protocols, variant, n, folder, key).values()]


def spread_over(root, protocols, variant, n, folder, key):
    """Per seed with every protocol finished: the standard deviation of the metric across the protocols."""
    out = []
    for v in per_seed(root, protocols, variant, n, folder, key).values():
        if len(v) > 1:
            out.append(mean_sd(v)[1])
    return out


# metrics.json of runs before the Judge (commit 2fbd6d3) has "quality"; later ones have "reasoning", whose consistency
# counts every chain (one without a conclusion is not consistent) where the old one counted chains with a conclusion.
REASONING_KEYS = {"FormatFailureRate": "format_failure_rate", "Faithfulness": "faithfulness",
                  "CitedTotal": "cited_cues_with_truth", "Consistency": "consistency",
                  "AnswerLiveSpoof": "answer_live_spoof_accuracy", "Agreement": "answer_score_agreement"}


def quality(m, key):
    if "reasoning" in m:
        return (m.get("reasoning") or {}).get(REASONING_KEYS[key])
    q = m.get("quality") or {}
    return q.get(key)


def grpo_zero_std(root, protocol, variant, n, seed):
    """(step, zero-std fraction) of every GRPO step of a finished run; None when the run has not finished."""
    cell = os.path.join(root, "cells", protocol, f"{variant}-N{n}-s{seed}")
    d = os.path.join(cell, "grpo")
    # finished: final/ exists (a run folder) or the cell was evaluated (a collected copy has no checkpoints)
    finished = os.path.isdir(os.path.join(d, "final")) or os.path.exists(os.path.join(cell, "eval", "metrics.json"))
    if not finished or not os.path.exists(os.path.join(d, "metrics.jsonl")):
        return None
    steps = []
    with open(os.path.join(d, "metrics.jsonl")) as fh:
        for line in fh:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            # "tied_fraction": the key of runs written before the quantity got its one name.
            key = "zero_std_fraction" if "zero_std_fraction" in r else "tied_fraction"
            if r.get("stage") == "grpo" and key in r and "reward_mean" in r:
                steps.append((r["step"], r[key]))
    return steps


def zero_std_curve(root, protocols, variant, n=10):
    """Mean zero-std fraction per GRPO step over every finished GRPO run of the variant."""
    acc = {}
    runs = 0
    for p in protocols:
        for s in seeds_of(root, p, variant, n):
            steps = grpo_zero_std(root, p, variant, n, s)
            if steps is None:
                continue
            runs += 1
            for step, f in steps:
                acc.setdefault(step, []).append(f)
    raw = sorted((k, sum(v) / len(v)) for k, v in acc.items())
    # 5-step moving average: a step has only P = 4 groups per run, so single steps are coarse.
    curve = [(k, sum(f for _, f in raw[max(0, i - 2):i + 3]) / len(raw[max(0, i - 2):i + 3])) for i, (k, _) in enumerate(raw)]
    return curve, runs


def svg(curves, path):
    w, h, l, b, t, r = 640, 360, 60, 40, 20, 170
    colours = {"raw": "#d62728", "none": "#1f77b4", "path": "#ff7f0e", "answer": "#2ca02c"}
    maxstep = max((c[-1][0] for c, _ in curves.values() if c), default=1)
    X = lambda s: l + (w - l - r) * (s / maxstep)
    Y = lambda v: t + (h - t - b) * (1 - v)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>']
    for v in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{l}" x2="{w - r}" y1="{Y(v):.1f}" y2="{Y(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{l - 8}" y="{Y(v) + 4:.1f}" text-anchor="end">{int(v * 100)}%</text>')
    parts.append(f'<text x="{(l + w - r) / 2}" y="{h - 8}" text-anchor="middle">GRPO step</text>')
    parts.append(f'<text x="14" y="{(t + h - b) / 2}" transform="rotate(-90 14 {(t + h - b) / 2})" text-anchor="middle">zero-std groups</text>')
    for s in range(0, maxstep + 1, max(1, maxstep // 4)):
        parts.append(f'<text x="{X(s):.1f}" y="{h - b + 16}" text-anchor="middle">{s}</text>')
    for i, (v, (c, runs)) in enumerate(curves.items()):
        if not c:
            continue
        pts = " ".join(f"{X(s):.1f},{Y(f):.1f}" for s, f in c)
        parts.append(f'<polyline fill="none" stroke="{colours.get(v, "black")}" stroke-width="2" points="{pts}"/>')
        y = t + 16 + 18 * i
        parts.append(f'<line x1="{w - r + 10}" x2="{w - r + 30}" y1="{y - 4}" y2="{y - 4}" stroke="{colours.get(v, "black")}" stroke-width="2"/>')
        parts.append(f'<text x="{w - r + 35}" y="{y}">{VARIANT_NAMES.get(v, v)} ({runs})</text>')
    parts.append("</svg>")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    root = args[0] if args else "runs/exp"
    svg_path = argv[argv.index("--svg") + 1] if "--svg" in argv else None
    o = []
    o.append(f"<!-- generated by scripts/results_tables.py {root}; values in %, mean+-std over seeds, (n) = seeds -->\n")

    o.append("### Protocol 1: leave one domain out (HTER / AUC, %)\n")
    o.append("| method | " + " | ".join(f"{a} HTER | {a} AUC" for _, a in P1) + " | avg HTER | avg AUC | HTER std over splits |")
    o.append("|---|" + "---:|---:|" * (len(P1) + 1) + "---:|")
    for label, v, folder in METHODS:
        cells = []
        for p, _ in P1:
            ms = metrics(root, p, v, 10, folder)
            cells += [stat([m["hter"] for m in ms]), stat([m["auc"] for m in ms])]
        protos = [p for p, _ in P1]
        cells += [stat(mean_over(root, protos, v, 10, folder, "hter")), stat(mean_over(root, protos, v, 10, folder, "auc")),
                  stat(spread_over(root, protos, v, 10, folder, "hter"))]
        o.append(f"| {label} | " + " | ".join(cells) + " |")
    o.append("")

    o.append("### Protocol 1 by SFT data, SFT only and SFT + GRPO (average over the four splits; %)\n")
    o.append("| SFT data | stage | HTER | AUC | EER | format failures | answer live/spoof | answer/score agree | faithfulness | consistency | zero-std GRPO groups |")
    o.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    protos = [p for p, _ in P1]
    for v in ("raw", "none", "path", "answer"):
        for stage, folder in (("SFT", "eval-sft"), ("SFT + GRPO", "eval")):
            ms = [m for p in protos for m in metrics(root, p, v, 10, folder)]
            zero = "" if stage == "SFT" else stat([x for p in protos for x in zero_std_means(root, p, v)])
            # Faithfulness is undefined for a cell whose chains cite no cue at all (CitedTotal = 0): left out.
            chains = (lambda key: "n/a") if v == "raw" else (
                lambda key: stat([quality(m, key) for m in ms if key != "Faithfulness" or (quality(m, "CitedTotal") or 0) > 0]))
            o.append(f"| {VARIANT_NAMES[v]} | {stage} | {stat(mean_over(root, protos, v, 10, folder, 'hter'))} | "
                     f"{stat(mean_over(root, protos, v, 10, folder, 'auc'))} | {stat(mean_over(root, protos, v, 10, folder, 'eer'))} | "
                     f"{stat([quality(m, 'FormatFailureRate') for m in ms])} | {stat([quality(m, 'AnswerLiveSpoof') for m in ms])} | "
                     f"{stat([quality(m, 'Agreement') for m in ms])} | {chains('Faithfulness')} | "
                     f"{chains('Consistency')} | {zero} |")
    o.append("\nThe avg columns average the four splits within a seed (only seeds with all four finished), then over seeds; "
             "the quality columns pool every finished cell (n = cells; faithfulness only over cells whose chains cite at least one cue).\n")

    o.append("### Protocol 2: modalities missing at test (average over the four Protocol 1 splits; HTER / AUC, %)\n")
    o.append("| method | " + " | ".join(f"{d} HTER | {d} AUC" for _, d in DROPS) + " |")
    o.append("|---|" + "---:|---:|" * len(DROPS))
    for label, v, folder in METHODS:
        cells = []
        for key, _ in DROPS:
            f = f"{folder}-drop-{key}"
            cells += [stat(mean_over(root, protos, v, 10, f, "hter")), stat(mean_over(root, protos, v, 10, f, "auc"))]
        o.append(f"| {label} | " + " | ".join(cells) + " |")
    o.append("")
    o.append("Per split (SFT + GRPO, HTER %):\n")
    o.append("| method | missing | " + " | ".join(a for _, a in P1) + " |")
    o.append("|---|---|" + "---:|" * len(P1))
    for label, v, folder in METHODS:
        if folder != "eval":
            continue
        for key, d in DROPS:
            o.append(f"| {VARIANT_NAMES[v]} | {d} | " + " | ".join(stat([m["hter"] for m in metrics(root, p, v, 10, f"eval-drop-{key}")]) for p, _ in P1) + " |")
    o.append("")

    o.append("### Protocol 3: limited source domains (HTER / AUC, %)\n")
    o.append("| method | " + " | ".join(f"{a} HTER | {a} AUC" for _, a in P3) + " | avg HTER | avg AUC |")
    o.append("|---|" + "---:|---:|" * (len(P3) + 1))
    p3 = [p for p, _ in P3]
    for label, v, folder in METHODS:
        cells = []
        for p, _ in P3:
            ms = metrics(root, p, v, 10, folder)
            cells += [stat([m["hter"] for m in ms]), stat([m["auc"] for m in ms])]
        cells += [stat(mean_over(root, p3, v, 10, folder, "hter")), stat(mean_over(root, p3, v, 10, folder, "auc"))]
        o.append(f"| {label} | " + " | ".join(cells) + " |")
    o.append("")

    o.append("### Shuffle ablation (paper Table 5 layout; Protocol 1 average, SFT + GRPO; %)\n")
    o.append("| shuffle | HTER | AUC |")
    o.append("|---|---:|---:|")
    for v, name in SHUFFLES:
        o.append(f"| {name} | {stat(mean_over(root, protos, v, 10, 'eval', 'hter'))} | {stat(mean_over(root, protos, v, 10, 'eval', 'auc'))} |")
    o.append("")

    o.append("### N (paths per labelled sample), CPS->W, answer shuffle, SFT + GRPO (%)\n")
    o.append("| N | chains per run | HTER | AUC | zero-std groups |")
    o.append("|---:|---:|---:|---:|---:|")
    for n in (1, 10, 50, 100):
        ms = metrics(root, "p1-W", "answer", n, "eval")
        chains = chain_counts(root, "p1-W", "answer", n)
        o.append(f"| {n} | {chains} | {stat([m['hter'] for m in ms])} | {stat([m['auc'] for m in ms])} | {stat(zero_std_means(root, 'p1-W', 'answer', n))} |")
    o.append("")

    o.append("### Head to head: the same split and seed (Protocol 1 and 3 cells, SFT + GRPO unless named; %)\n")
    o += head_to_head([(name, paired(root, protos + p3, a, fa, b, fb)) for (a, fa), (b, fb), name in PAIRS])
    o.append("Protocol 2 (the Protocol 1 models with modalities missing at test), same split and seed:\n")
    o += head_to_head([(f"{name}, {d}", paired(root, protos, "answer", f"eval-drop-{key}", b, f"{fb}-drop-{key}"))
                       for key, d in DROPS
                       for b, fb, name in (("raw", "eval-sft", "PA-FAS vs raw SFT"), ("raw", "eval", "PA-FAS vs raw SFT + GRPO"))])
    o.append("Zero-std GRPO groups (mean over the 40 steps), same split and seed:\n")
    o.append("| comparison | pairs | first has more | difference (points) | sign test p |")
    o.append("|---|---:|---:|---:|---:|")
    for a, b in (("raw", "answer"), ("none", "answer"), ("raw", "none"), ("path", "answer")):
        ties = [(x, y) for p in protos + p3 for s in seeds_of(root, p, a, 10)
                for x in [zero_std_mean(root, p, a, 10, s)] for y in [zero_std_mean(root, p, b, 10, s)] if x is not None and y is not None]
        more = sum(x > y for x, y in ties)
        o.append(f"| {VARIANT_NAMES[a]} vs {VARIANT_NAMES[b]} | {len(ties)} | {more} of {len(ties)} | {stat([x - y for x, y in ties])} | "
                 f"{sign_test(more, sum(x != y for x, y in ties)):.2g} |")
    o.append("")

    o += all_tied_table(root, protos + p3)

    if "--compare" in argv:
        other = argv[argv.index("--compare") + 1]
        labels = (argv[argv.index("--labels") + 1] if "--labels" in argv else f"{root},{other}").split(",")
        o += compare_roots(root, other, labels[0], labels[1], protos + p3)

    if svg_path:
        curves = {v: zero_std_curve(root, protos, v) for v in ("raw", "none", "path", "answer")}
        svg(curves, svg_path)
        o.append(f"Zero-std GRPO groups per step (mean over the Protocol 1 runs of each variant, 5-step moving average; (n) = runs): `{svg_path}`\n")
    print("\n".join(o))


# (first, second, label) for the head-to-head table: (variant, eval folder) each.
PAIRS = [
    (("answer", "eval"), ("raw", "eval-sft"), "PA-FAS vs raw SFT"),
    (("answer", "eval"), ("raw", "eval"), "PA-FAS vs raw SFT + GRPO"),
    (("raw", "eval"), ("raw", "eval-sft"), "raw SFT + GRPO vs raw SFT"),
    (("answer", "eval"), ("none", "eval"), "answer shuffle vs no shuffle"),
    (("answer", "eval"), ("path", "eval"), "answer shuffle vs path shuffle"),
    (("answer", "eval"), ("answer", "eval-sft"), "PA-FAS: SFT + GRPO vs its SFT"),
]


def head_to_head(rows):
    """Rows of (name, [(metrics of the first, metrics of the second)]): wins, mean difference with its paired 95%
    interval, and the sign test, for HTER and AUC."""
    o = ["| comparison | pairs | lower HTER | HTER difference [95% interval] | higher AUC | AUC difference [95% interval] | sign test p, HTER | sign test p, AUC |",
         "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, pairs in rows:
        if not pairs:
            o.append(f"| {name} | 0 | - | - | - | - | - | - |")
            continue
        dh = [x["hter"] - y["hter"] for x, y in pairs]
        da = [x["auc"] - y["auc"] for x, y in pairs]
        wins_h, wins_a = sum(d < 0 for d in dh), sum(d > 0 for d in da)
        o.append(f"| {name} | {len(pairs)} | {wins_h} of {len(pairs)} | {interval(dh)} | {wins_a} of {len(pairs)} | {interval(da)} | "
                 f"{sign_test(wins_h, sum(d != 0 for d in dh)):.2g} | {sign_test(wins_a, sum(d != 0 for d in da)):.2g} |")
    o.append("\nEach pair is one (split, seed) where both runs finished; a difference is first minus second, in points (negative "
             "HTER = the first is better); the interval is the paired t interval of the mean difference (none for one pair); "
             "the sign test is two-sided over the pairs that differ.\n")
    return o


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (beyond: the normal's 1.96).
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def interval(diffs, scale=100.0):
    """'mean [lo, hi]' of paired differences (in points), the paired t interval of the mean."""
    d = [x * scale for x in diffs]
    mean, sd = mean_sd(d)
    if sd is None:
        return f"{mean:+.2f}"
    t = T95[len(d) - 2] if len(d) - 1 <= len(T95) else 1.96
    half = t * sd / math.sqrt(len(d))
    return f"{mean:+.2f} [{mean - half:+.2f}, {mean + half:+.2f}]"


def all_tied_table(root, protocols, n=10):
    """Per variant: GRPO runs in which some step had every group tied (zero std: no gradient), the first such step."""
    o = ["All-tied GRPO steps (every group of the step has zero reward std, so the step has no gradient):\n",
         "| SFT data | GRPO runs | runs with an all-tied step | all-tied steps (share of all steps) | first all-tied step (median) |",
         "|---|---:|---:|---:|---:|"]
    for v in ("raw", "none", "path", "answer"):
        runs = [r for p in protocols for s in seeds_of(root, p, v, n) for r in [grpo_zero_std(root, p, v, n, s)] if r]
        if not runs:
            o.append(f"| {VARIANT_NAMES[v]} | 0 | - | - | - |")
            continue
        firsts = sorted(next(step for step, f in r if f >= 1.0) for r in runs if any(f >= 1.0 for _, f in r))
        steps = sum(len(r) for r in runs)
        tied = sum(1 for r in runs for _, f in r if f >= 1.0)
        med = "-" if not firsts else str(firsts[len(firsts) // 2])
        o.append(f"| {VARIANT_NAMES[v]} | {len(runs)} | {len(firsts)} | {tied} of {steps} ({100.0 * tied / steps:.1f}%) | {med} |")
    o.append("")
    return o


def compare_roots(a, b, la, lb, protocols, n=10):
    """The same variant, split and seed in two grids (e.g. pretrained backbone vs from scratch), and the ranking of
    PA-FAS against the raw-label baselines in each."""
    o = [f"### {la} vs {lb}: the same variant, split and seed (Protocol 1 and 3 cells; %)\n"]
    o += head_to_head([(f"{label}: {la} vs {lb}", paired(a, protocols, v, folder, v, folder, root_b=b)) for label, v, folder in METHODS])
    o.append(f"### Does the ranking change? PA-FAS against the raw-label baselines within each grid (same split and seed; %)\n")
    rows = []
    for root, label in ((a, la), (b, lb)):
        for (x, fx), (y, fy), name in PAIRS[:3]:
            rows.append((f"{label}: {name}", paired(root, protocols, x, fx, y, fy)))
    o += head_to_head(rows)
    return o


def paired(root, protocols, a, fa, b, fb, n=10, root_b=None):
    """(metrics of a, metrics of b) for every protocol and seed where both have finished; b from root_b when given."""
    out = []
    for p in protocols:
        for s in seeds_of(root, p, a, n):
            x, y = cell_metrics(root, p, a, n, s, fa), cell_metrics(root_b or root, p, b, n, s, fb)
            if x is not None and y is not None:
                out.append((x, y))
    return out


def sign_test(wins, n):
    """Two-sided exact binomial sign test: P(a split at least this uneven | no difference)."""
    if n == 0:
        return 1.0
    k = min(wins, n - wins)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def zero_std_mean(root, protocol, variant, n, seed):
    """Mean zero-std fraction over the GRPO steps of one finished run; None when it has not finished (or logged no step)."""
    steps = grpo_zero_std(root, protocol, variant, n, seed)
    return sum(f for _, f in steps) / len(steps) if steps else None


def zero_std_means(root, protocol, variant, n=10):
    """Mean zero-std fraction of each finished run."""
    runs = (zero_std_mean(root, protocol, variant, n, s) for s in seeds_of(root, protocol, variant, n))
    return [m for m in runs if m is not None]


def chain_counts(root, protocol, variant, n):
    counts = set()
    for s in seeds_of(root, protocol, variant, n):
        cell = os.path.join(root, "cells", protocol, f"{variant}-N{n}-s{s}")
        f = os.path.join(cell, "chains.jsonl")
        if os.path.exists(os.path.join(cell, "chains.count")):
            with open(os.path.join(cell, "chains.count")) as fh:
                counts.add(int(fh.read().strip()))
        elif os.path.exists(f):
            with open(f) as fh:
                counts.add(sum(1 for _ in fh))
    return "-" if not counts else "/".join(str(c) for c in sorted(counts))


if __name__ == "__main__":
    main(sys.argv[1:])
