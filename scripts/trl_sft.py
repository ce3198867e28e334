#!/usr/bin/env python3
"""SFT of a vision-language model on the PA-FAS reasoning chains with TRL's SFTTrainer.

Input: `pafas export --kind sft --format trl` (conversational "messages" + "images"). Needs torch, transformers,
datasets and trl on a GPU machine (not available where PA-FAS is developed: this script was checked with Python's
compiler and its --check-only mode, never trained with). Example (8 GPUs, DeepSpeed ZeRO-3 config of your own):

    accelerate launch --config_file zero3.yaml --num_processes 8 scripts/trl_sft.py \
        --model Qwen/Qwen2.5-VL-3B-Instruct --data runs/export/trl-sft.jsonl --out runs/qwen-sft
    python3 scripts/trl_sft.py --data runs/export/trl-sft.jsonl --check-only     # data check only, no TRL
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pafas_trl_common as common  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_arguments(ap)
    args = ap.parse_args(argv)
    try:
        if not common.preflight(args, "sft"):
            return 0
    except ValueError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1

    from trl import SFTConfig, SFTTrainer

    train = common.load_rows(args.data, ["messages", "images"])
    # max_length=None: truncation could cut the image tokens of a multi-image prompt.
    config = SFTConfig(max_length=None, **common.training_kwargs(args))
    trainer = SFTTrainer(model=args.model, args=config, train_dataset=train)
    return common.train_and_save(trainer, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
