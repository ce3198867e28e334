#!/usr/bin/env python3
"""Tables of the demo-recipe study (docs/results/demo-recipe.md) from the committed result files.

    python3 scripts/demo_recipe_tables.py [docs/results/demo-recipe] [--mean]

Each folder under the root is one SFT starting point (e.g. answer-shuffle, no-shuffle); each of its subfolders is
one model evaluated on held-out W (its metrics.json, written by `pafas eval`) and, for a GRPO model, the
summary of its GRPO metrics.jsonl (grpo_summary.jsonl: one line per step, sampled texts left out). A folder's
order file (order.txt, one name a line) fixes the row order; otherwise rows are sorted by name. --mean adds a row
of mean +- standard deviation over the folder's models (for folders whose models are seeds of one recipe).
Prints markdown.
"""
import json
import os
import sys

from results_tables import mean_sd  # the one mean and sample deviation of the result scripts

COLUMNS = [("hter", "HTER"), ("auc", "AUC"), ("answer_live_spoof_accuracy", "answer live/spoof"),
           ("answer_leaf_accuracy", "answer leaf"), ("conclusion_live_spoof_accuracy", "conclusion live/spoof"),
           ("conclusion_leaf_accuracy", "conclusion leaf"), ("consistency", "consistency"),
           ("answer_score_agreement", "answer/score agree"), ("self_contradiction_rate", "self-contradicting"),
           ("faithfulness", "faithfulness")]


def value(metrics, key):
    v = metrics.get(key, metrics.get("reasoning", {}).get(key))
    return v if isinstance(v, (int, float)) else None


def tied(folder):
    path = os.path.join(folder, "grpo_summary.jsonl")
    if not os.path.exists(path):
        return None
    zs = [json.loads(line).get("zero_std_fraction") for line in open(path)]
    zs = [z for z in zs if isinstance(z, (int, float))]
    return sum(zs) / len(zs) if zs else None


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}"


def mean_std(values):
    vals = [100 * v for v in values if v is not None]
    if not vals:
        return "n/a"
    m, sd = mean_sd(vals)
    return f"{m:.1f}" if sd is None else f"{m:.1f} +- {sd:.1f}"


def table(start, mean=False):
    names = sorted(n for n in os.listdir(start) if os.path.isfile(os.path.join(start, n, "metrics.json")))
    order = os.path.join(start, "order.txt")
    if os.path.exists(order):
        wanted = [line.strip() for line in open(order) if line.strip()]
        names = [n for n in wanted if n in names] + [n for n in names if n not in wanted]
    head = ["model"] + [c for _, c in COLUMNS] + ["tied groups"]
    rows = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    ms = []
    for n in names:
        m = json.load(open(os.path.join(start, n, "metrics.json")))
        ms.append(m)
        rows.append("| " + " | ".join([n] + [pct(value(m, k)) for k, _ in COLUMNS] + [pct(tied(os.path.join(start, n)))]) + " |")
    if mean and ms:
        rows.append("| " + " | ".join([f"mean +- std ({len(ms)})"] + [mean_std([value(m, k) for m in ms]) for k, _ in COLUMNS]
                                      + [mean_std([tied(os.path.join(start, n)) for n in names])]) + " |")
    return "\n".join(rows)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    root = args[0] if args else "docs/results/demo-recipe"
    for start in sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))):
        print(f"### {'recipe' if '--mean' in sys.argv else 'SFT start'}: {start}\n")
        print(table(os.path.join(root, start), "--mean" in sys.argv))
        print()


if __name__ == "__main__":
    main()
