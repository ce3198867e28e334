#!/usr/bin/env python3
"""PA-FAS GRPO rewards for external trainers: TRL's GRPOTrainer and VLM-R1 (Python standard library only).

The rewards are those of PaFas.Core/Rewards.fs, reading a completion the way PaFas.Core/ReasoningTree.fs does
(`Grammar.parse`), and equal to what `pafas score --completions` reports (a test in PaFas.Tests checks this on
more than 10,000 real, mutated and random completions in every mode):

- format: 1.0 iff the text has <think>...</think> then <answer>[...]</answer>, nothing but whitespace before
  <think>, between </think> and <answer> and after </answer>, and the answer is a full taxonomy path (a child of
  the root down to a leaf); else 0.0. Quote style ('A' or "A"), label case and extra whitespace are forgiven.
- classification (the answer as read by the same tolerant parser against the truth; 0.0 when no answer can be
  read, which includes a missing <think>, text between </think> and <answer> or after </answer>; a missing
  </answer> or text before <think> still lets the answer be read):
  exact        1.0 iff the whole path equals the truth;
  binary       1.0 iff both are 'Real Face' or both are 'Spoof Face' at the top;
  hierarchical (longest common prefix that is also a valid taxonomy path) / max(len(truth), len(answer)).

TRL: `GRPOTrainer(reward_funcs=[format_reward, exact_reward], ...)` on the rows of `pafas export --kind grpo
--format trl`; the `solution` column reaches the functions as a keyword argument. VLM-R1: add REWARD_FUNCS to
`reward_funcs_registry` in grpo_jsonl.py and pass `--reward_funcs pafas_format pafas_exact`. Completions may be
strings or chat-message lists (the last message's "content", itself a string or a list of text parts).

The taxonomy is read from $PAFAS_TAXONOMY, else from ../data/taxonomy.json next to this file; `set_taxonomy(path)`
chooses another. As a command, `python3 pafas_rewards.py COMPLETIONS.jsonl` scores a completions file (the lines
`pafas score --completions` reads, without --data) and prints one JSON line per completion with the format reward
and, per mode, the classification reward and the total (format + classification).
"""
import json
import os
import re
import sys

LIVE = "Real Face"
SPOOF = "Spoof Face"
MODES = ("exact", "binary", "hierarchical")
TAXONOMY_ENV = "PAFAS_TAXONOMY"

# .NET's Char.IsWhiteSpace and regex \s (str.isspace() and Python's \s also take U+001C..U+001F).
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
      "\u2028\u2029\u202f\u205f\u3000"
_ITEM = re.compile("^[%s]*(?:'([^']*)'|\"([^\"]*)\")[%s]*$" % (_WS, _WS))
# Characters a node name may not contain (Taxonomy.build).
_FORBIDDEN = set("'\",[]<>.!?")


def _trim(s):
    return s.strip(_WS)


def _lower(s):
    """.NET ToLowerInvariant: simple per-character mapping; U+0130 stays (Python's lower() maps it to two
    characters and applies the Greek final-sigma rule)."""
    if s.isascii():
        return s.lower()
    return "".join(c if c == "\u0130" else (c.lower() if len(c.lower()) == 1 else c) for c in s)


def _name_key(name):
    """Taxonomy name key: split on space, tab, CR and LF, rejoined with one space, lower-cased."""
    return _lower(" ".join(p for p in re.split("[ \t\n\r]", name) if p))


class Taxonomy:
    """The attack taxonomy of data/taxonomy.json: what the rewards need of PaFas.Core/Taxonomy.fs."""

    def __init__(self, spec, source="taxonomy"):
        self.parent, self.leaves, self._by_key = {}, set(), {}
        errors = []

        def walk(node):
            name = node.get("name") if isinstance(node, dict) else None
            name = _trim(name) if isinstance(name, str) else ""
            kids = node.get("children") if isinstance(node, dict) else None
            kids = kids if isinstance(kids, list) else []
            if name == "":
                errors.append("a taxonomy node has an empty name")
            elif _FORBIDDEN & set(name):
                errors.append("node '%s': a name may not contain quotes, commas, brackets, '<', '>', '.', '!' or '?'" % name)
            key = _name_key(name)
            if key in self._by_key:
                errors.append("duplicate taxonomy node name '%s' (also '%s')" % (name, self._by_key[key]))
            else:
                self._by_key[key] = name
            child_names = [walk(k) for k in kids]
            for c in child_names:
                self.parent[c] = name
            if not kids:
                self.leaves.add(name)
            return name

        self.root = walk(spec)
        top = [n for n, p in self.parent.items() if p == self.root]
        for required in (LIVE, SPOOF):
            if required not in top:
                errors.append("the root has no child '%s'" % required)
        if errors:
            raise ValueError("%s: %s" % (source, "; ".join(errors)))

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding="utf-8") as f:
                spec = json.load(f)
        except OSError as e:
            raise ValueError("%s: cannot read the taxonomy (%s)" % (path, e.strerror or e)) from None
        except ValueError as e:
            raise ValueError("%s: taxonomy JSON is malformed (%s)" % (path, e)) from None
        if not isinstance(spec, dict):
            raise ValueError("%s: taxonomy JSON must be an object" % path)
        return cls(spec, path)

    def canonical(self, name):
        """The canonical spelling of a node name (case and whitespace forgiven), None for unknown names and the root."""
        found = self._by_key.get(_name_key(name))
        return found if found is not None and found != self.root else None

    def is_valid_label(self, label):
        """A full path from a child of the root down to a leaf."""
        if not label or self.parent.get(label[0]) != self.root or label[-1] not in self.leaves:
            return False
        return all(self.parent.get(b) == a for a, b in zip(label, label[1:]))

    def valid_prefix_length(self, label):
        n, prev = 0, self.root
        for x in label:
            if self.parent.get(x) != prev:
                break
            n, prev = n + 1, x
        return n


_taxonomy = None  # read on first use


def default_taxonomy_path():
    return os.environ.get(TAXONOMY_ENV) or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "taxonomy.json")


def set_taxonomy(path):
    """Reads the taxonomy the rewards use from now on (default: $PAFAS_TAXONOMY, else ../data/taxonomy.json)."""
    global _taxonomy
    _taxonomy = Taxonomy.load(path)
    return _taxonomy


def taxonomy():
    if _taxonomy is None:
        path = default_taxonomy_path()
        if not os.path.isfile(path):
            raise ValueError("%s: taxonomy not found; set %s or call pafas_rewards.set_taxonomy(path) with the "
                             "data/taxonomy.json of PA-FAS" % (path, TAXONOMY_ENV))
        set_taxonomy(path)
    return _taxonomy


def parse_answer_list(text, tax=None):
    """Reads an answer list "['A', \"B\"]" into canonical labels, or None (Grammar.parseAnswerList)."""
    tax = tax or taxonomy()
    s = _trim(text)
    if not s.startswith("[") or not s.endswith("]"):
        return None
    inner = s[1:-1]
    if _trim(inner) == "":
        return None
    label = []
    for item in inner.split(","):
        m = _ITEM.match(item)
        if m is None:
            return None
        v = m.group(1) if m.group(1) is not None else m.group(2)
        c = tax.canonical(v)
        label.append(c if c is not None else _trim(v))
    return label


def parse_completion(text, tax=None):
    """(answer, closed, preamble) as Grammar.parse reads a completion, or None when it cannot be read."""
    if not isinstance(text, str) or _trim(text) == "":
        return None
    i0 = text.find("<think>")
    if i0 < 0:
        return None
    i1 = text.find("</think>", i0 + len("<think>"))
    if i1 < 0:
        return None
    rest = text[i1 + len("</think>"):]
    a0 = rest.find("<answer>")
    if a0 < 0 or _trim(rest[:a0]) != "":
        return None
    after = rest[a0 + len("<answer>"):]
    a1 = after.find("</answer>")
    if a1 >= 0:
        body, closed = after[:a1], True
        if _trim(after[a1 + len("</answer>"):]) != "":
            return None
    else:
        body, closed = after, False
    answer = parse_answer_list(body, tax)
    if answer is None:
        return None
    return answer, closed, _trim(text[:i0]) != ""


def format_score(text, tax=None):
    tax = tax or taxonomy()
    p = parse_completion(text, tax)
    return 1.0 if p is not None and p[1] and not p[2] and tax.is_valid_label(p[0]) else 0.0


def label_credit(truth, predicted, mode, tax=None):
    """Classification credit of a predicted label against the truth (Rewards.labelCredit)."""
    tax = tax or taxonomy()
    truth = truth or []
    if mode == "exact":
        return 1.0 if truth and predicted == truth else 0.0
    if mode == "binary":
        same = predicted[:1] == truth[:1] and truth[:1] in ([LIVE], [SPOOF])
        return 1.0 if same else 0.0
    if mode == "hierarchical":
        if not truth:
            return 0.0
        common = 0
        for a, b in zip(truth, predicted):
            if a != b:
                break
            common += 1
        return min(common, tax.valid_prefix_length(predicted)) / max(len(truth), len(predicted))
    raise ValueError("unknown classification reward mode '%s' (expected %s)" % (mode, ", ".join(MODES)))


def classification_score(text, truth, mode="exact", tax=None):
    tax = tax or taxonomy()
    p = parse_completion(text, tax)
    return 0.0 if p is None else label_credit(truth, p[0], mode, tax)


def completion_text(completion):
    """The text of a completion: a string, or a chat-message list whose last message's "content" (a string or a
    list of parts, the last part's "text") is taken; None when there is none."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return completion_text(completion[-1]) if completion else None
    if isinstance(completion, dict):
        if "content" in completion:
            return completion_text(completion["content"])
        if "text" in completion:
            return completion_text(completion["text"])
    return None


def truth_label(solution, tax=None):
    """The truth label of a `solution` value: "<answer>['A', 'B']</answer>" (as exported; VLM-R1 adds spaces inside
    the tags), an answer list without tags, a single label name, or a list of label names; None when unusable."""
    tax = tax or taxonomy()
    if isinstance(solution, list):
        if not all(isinstance(x, str) for x in solution):
            return None
        return [tax.canonical(x) or _trim(x) for x in solution]
    if not isinstance(solution, str):
        return None
    s = _trim(solution.replace("<answer>", "").replace("</answer>", ""))
    if s == "":
        return None
    if s.startswith("["):
        return parse_answer_list(s, tax)
    return [tax.canonical(s) or _trim(s)]


# Reward functions with the trainers' calling convention: keyword arguments `completions` (one per generation) and
# the dataset's columns (here `solution`), plus whatever else the trainer passes (prompts, trainer_state, ...).

def _truths(solution, n):
    if solution is None:
        raise ValueError("no 'solution' column: the classification rewards need the rows of `pafas export --kind grpo`")
    if isinstance(solution, (str, dict)) or len(solution) != n:
        raise ValueError("'solution' must hold one value per completion (%d completions)" % n)
    tax = taxonomy()
    return [truth_label(s, tax) for s in solution]


def _classification_rewards(completions, solution, mode):
    tax = taxonomy()
    truths = _truths(solution, len(completions))
    return [classification_score(completion_text(c), t, mode, tax) for c, t in zip(completions, truths)]


def format_reward(completions, **kwargs):
    """R_format per completion (needs no solution)."""
    tax = taxonomy()
    return [format_score(completion_text(c), tax) for c in completions]


def exact_reward(completions, solution=None, **kwargs):
    """R_class, exact leaf: 1.0 iff the answer path equals the truth (the paper's)."""
    return _classification_rewards(completions, solution, "exact")


def binary_reward(completions, solution=None, **kwargs):
    """R_class, live/spoof only."""
    return _classification_rewards(completions, solution, "binary")


def hierarchical_reward(completions, solution=None, **kwargs):
    """R_class, prefix credit along the taxonomy."""
    return _classification_rewards(completions, solution, "hierarchical")


CLASSIFICATION_REWARDS = {"exact": exact_reward, "binary": binary_reward, "hierarchical": hierarchical_reward}

# For VLM-R1's reward_funcs_registry (grpo_jsonl.py): the names --reward_funcs takes.
REWARD_FUNCS = {
    "pafas_format": format_reward,
    "pafas_exact": exact_reward,
    "pafas_binary": binary_reward,
    "pafas_hierarchical": hierarchical_reward,
}


def reward_functions(mode="exact"):
    """[format_reward, <mode>_reward]: with weights 1 and 1 their sum is the paper's R = R_format + R_class."""
    if mode not in CLASSIFICATION_REWARDS:
        raise ValueError("unknown classification reward mode '%s' (expected %s)" % (mode, ", ".join(MODES)))
    return [format_reward, CLASSIFICATION_REWARDS[mode]]


# Command line: score a completions file with every mode (the lines `pafas score --completions` reads).

class _Number:
    def __init__(self, text):  # a JSON number kept as its text: an id 7 stays "7", and it is never a label or a text
        self.text = text


_ID_KEYS = ("sample_id", "id")
_TEXT_KEYS = ("text", "completion", "response")
_TRUTH_KEYS = ("true_label", "label", "truth", "solution")


def _first(obj, keys, value_of):
    for k in keys:
        if k in obj and value_of(obj[k]) is not None:
            return obj[k]
    return None


def score_file(path, out):
    """Writes {"id", "format", "classification": {mode: c}, "total": {mode: format + c}} per completion."""
    ids, completions, solutions = [], [], []
    with open(path, encoding="utf-8-sig") as f:
        for n, raw in enumerate(f, 1):
            if _trim(raw) == "":
                continue
            src = "%s:%d" % (path, n)
            try:
                o = json.loads(raw, parse_int=_Number, parse_float=_Number)
            except ValueError as e:
                raise ValueError("%s: malformed JSON (%s)" % (src, e)) from None
            if not isinstance(o, dict):
                raise ValueError("%s: expected a JSON object" % src)
            sid = _first(o, _ID_KEYS, lambda v: v if isinstance(v, (str, _Number)) else None)
            if sid is None:
                raise ValueError("%s: no sample id (expected one of %s)" % (src, ", ".join(_ID_KEYS)))
            text = _first(o, _TEXT_KEYS, completion_text)
            if text is None:
                raise ValueError("%s: no completion text (expected one of %s)" % (src, ", ".join(_TEXT_KEYS)))
            ids.append(sid.text if isinstance(sid, _Number) else sid)
            completions.append(text)
            solutions.append(_first(o, _TRUTH_KEYS, truth_label))
    if not ids:
        raise ValueError("%s: no completions in the file" % path)
    fmt = format_reward(completions=completions)
    cls = {m: CLASSIFICATION_REWARDS[m](completions=completions, solution=solutions) for m in MODES}
    for i, sid in enumerate(ids):
        row = {"id": sid, "format": fmt[i], "classification": {m: cls[m][i] for m in MODES},
               "total": {m: 1.0 * fmt[i] + 1.0 * cls[m][i] for m in MODES}}
        out.write(json.dumps(row) + "\n")
    return len(ids)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description="Score a completions JSONL file with the PA-FAS rewards (all modes).")
    ap.add_argument("completions", help="JSONL: id or sample_id; text, completion or response; truth in "
                                        "true_label, label, truth or solution")
    ap.add_argument("--taxonomy", help="data/taxonomy.json of PA-FAS (default: $%s, else ../data/taxonomy.json)" % TAXONOMY_ENV)
    args = ap.parse_args(argv)
    try:
        if args.taxonomy:
            set_taxonomy(args.taxonomy)
        score_file(args.completions, sys.stdout)
    except (ValueError, OSError) as e:
        print("error: %s" % (e if isinstance(e, ValueError) else "%s: %s" % (args.completions, e.strerror or e)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
