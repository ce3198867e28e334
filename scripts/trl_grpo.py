#!/usr/bin/env python3
"""GRPO of a vision-language model with the PA-FAS rewards and TRL's GRPOTrainer.

Input: `pafas export --kind grpo --format trl` (conversational "prompt" + "images" + "solution"). The rewards are
those of pafas_rewards.py (the same numbers as `pafas score`): R = format_weight * R_format + class_weight * R_class,
R_class in the chosen mode (exact, binary or hierarchical). Needs torch, transformers, datasets and trl on a GPU
machine (not available where PA-FAS is developed: this script was checked with Python's compiler and its
--check-only mode, never trained with). Example:

    accelerate launch --config_file zero3.yaml --num_processes 8 scripts/trl_grpo.py \
        --model runs/qwen-sft --data runs/export/trl-grpo.jsonl --out runs/qwen-grpo --reward-mode exact
    python3 scripts/trl_grpo.py --data runs/export/trl-grpo.jsonl --check-only    # data check only, no TRL
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pafas_rewards  # noqa: E402
import pafas_trl_common as common  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common.add_common_arguments(ap)
    ap.add_argument("--reward-mode", default="exact", choices=list(pafas_rewards.MODES))
    ap.add_argument("--format-weight", type=float, default=1.0)
    ap.add_argument("--class-weight", type=float, default=1.0)
    ap.add_argument("--generations", type=int, default=8, help="completions per prompt (the GRPO group)")
    ap.add_argument("--max-completion", type=int, default=512, help="most tokens a completion may have")
    ap.add_argument("--beta", type=float, default=0.04, help="KL coefficient")
    ap.add_argument("--taxonomy", help="data/taxonomy.json of PA-FAS (default: $%s, else ../data/taxonomy.json)"
                    % pafas_rewards.TAXONOMY_ENV)
    args = ap.parse_args(argv)
    try:
        if args.taxonomy:
            pafas_rewards.set_taxonomy(args.taxonomy)
        if args.generations < 2:
            raise ValueError("--generations must be at least 2 (GRPO compares completions within a group)")
        if not common.preflight(args, "grpo"):
            return 0
    except ValueError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1

    from trl import GRPOConfig, GRPOTrainer

    train = common.load_rows(args.data, ["prompt", "images", "solution"])
    config = GRPOConfig(
        num_generations=args.generations, max_completion_length=args.max_completion, beta=args.beta,
        reward_weights=[args.format_weight, args.class_weight], log_completions=True,
        **common.training_kwargs(args))
    trainer = GRPOTrainer(model=args.model, reward_funcs=pafas_rewards.reward_functions(args.reward_mode),
                          args=config, train_dataset=train)
    return common.train_and_save(trainer, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
