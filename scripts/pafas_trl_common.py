"""Shared by trl_sft.py and trl_grpo.py: checks an exported JSONL file (standard library only, so `--check-only`
runs without TRL), guards the output folder, and loads the rows with the `datasets` library.

The files are those of `pafas export --format trl --kind sft|grpo` (see the README, "Training a large VLM on a
cluster"): "images" (absolute paths, RGB, depth, IR order), conversational "messages" (SFT) or "prompt" plus
"solution" (GRPO), with one {"type": "image"} part per image in the user turn.
"""
import json
import os

import pafas_rewards


def _image_parts(turn):
    content = turn.get("content") if isinstance(turn, dict) else None
    if not isinstance(content, list):
        return None
    return sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image")


def _check_row(o, kind):
    """Why a row cannot be trained on, or None."""
    if not isinstance(o, dict):
        return "expected a JSON object"
    images = o.get("images")
    if not isinstance(images, list) or not images or not all(isinstance(p, str) for p in images):
        return "\"images\" must be a non-empty list of image paths"
    missing = [p for p in images if not os.path.isfile(p)]
    if missing:
        return "image not found: %s" % missing[0]
    turns = o.get("messages" if kind == "sft" else "prompt")
    if not isinstance(turns, list) or not turns or not isinstance(turns[0], dict) or turns[0].get("role") != "user":
        return "\"%s\" must be a list of chat messages starting with the user turn" % ("messages" if kind == "sft" else "prompt")
    if _image_parts(turns[0]) != len(images):
        return "the user turn must have one {\"type\": \"image\"} part per image (%d images)" % len(images)
    if kind == "sft":
        if len(turns) != 2 or not isinstance(turns[1], dict) or turns[1].get("role") != "assistant":
            return "\"messages\" must be the user turn and the assistant turn"
        if pafas_rewards.format_score(pafas_rewards.completion_text(turns[1])) != 1.0:
            return "the assistant turn is not a well-formed <think>...</think><answer>[...]</answer> chain"
    else:
        truth = pafas_rewards.truth_label(o.get("solution"))
        if truth is None or not pafas_rewards.taxonomy().is_valid_label(truth):
            return "\"solution\" must be <answer>[...]</answer> with a full taxonomy path, got %r" % (o.get("solution"),)
    return None


def check_export(path, kind):
    """Checks every line of an exported file; raises ValueError("FILE:LINE: why") on the first bad one."""
    if not os.path.isfile(path):
        raise ValueError("%s: file not found (write it with `pafas export --format trl --kind %s`)" % (path, kind))
    n = 0
    with open(path, encoding="utf-8-sig") as f:
        for i, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                o = json.loads(raw)
            except ValueError as e:
                raise ValueError("%s:%d: malformed JSON (%s)" % (path, i, e)) from None
            why = _check_row(o, kind)
            if why:
                raise ValueError("%s:%d: %s" % (path, i, why))
            n += 1
    if n == 0:
        raise ValueError("%s: no rows" % path)
    return n


def check_output(out, resume):
    """Refuses to write into a folder that already holds files, unless resuming a run from it."""
    if resume:
        if not os.path.isdir(out):
            raise ValueError("%s: --resume needs the folder of an earlier run" % out)
    elif os.path.isdir(out) and os.listdir(out):
        raise ValueError("%s: the output folder is not empty (choose a new one, or --resume the run in it)" % out)


def load_rows(path, columns):
    """The rows as a datasets.Dataset with only `columns`, the image paths decoded lazily as PIL images."""
    import datasets

    ds = datasets.load_dataset("json", data_files=path, split="train")
    return ds.select_columns(columns).cast_column("images", datasets.Sequence(datasets.Image()))


def add_common_arguments(ap):
    ap.add_argument("--model", help="a Hugging Face model id or folder (e.g. Qwen/Qwen2.5-VL-3B-Instruct)")
    ap.add_argument("--data", required=True, help="the JSONL written by pafas export --format trl")
    ap.add_argument("--out", help="output folder (must be new or empty unless --resume)")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--batch", type=int, default=1, help="per-device batch size")
    ap.add_argument("--grad-accum", type=int, default=8)
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    ap.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    ap.add_argument("--check-only", action="store_true", help="check the data file (no TRL needed) and stop")


def training_kwargs(args):
    """The TrainingArguments fields both trainers share."""
    return dict(
        output_dir=args.out, num_train_epochs=args.epochs, learning_rate=args.lr,
        per_device_train_batch_size=args.batch, gradient_accumulation_steps=args.grad_accum,
        bf16=args.dtype == "bfloat16", fp16=args.dtype == "float16", gradient_checkpointing=True,
        logging_steps=10, save_strategy="epoch", report_to="none", model_init_kwargs={"dtype": args.dtype},
    )


def preflight(args, kind):
    """Checks data and output; returns False (after printing) when only a check was asked for."""
    n = check_export(args.data, kind)
    if args.check_only:
        print("%s: %d rows ok (%s)" % (args.data, n, kind))
        return False
    if not args.model or not args.out:
        raise ValueError("--model and --out are required to train")
    check_output(args.out, args.resume)
    return True


def train_and_save(trainer, args):
    """Trains (from the last checkpoint with --resume), saves the model in --out and prints the folder."""
    trainer.train(resume_from_checkpoint=True if args.resume else None)
    trainer.save_model(args.out)
    print(args.out)
    return 0
