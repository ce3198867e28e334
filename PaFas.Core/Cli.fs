namespace PaFas.Core

// The `pafas` command-line grammar. Argu does the tokenising and the help text; everything that leaves this file
// is plain F# records of strings, ints, floats, bools and string lists, so the C# host reads it without Argu
// or F# quotations. An option that is not given takes its value from CliDefaults. Optional paths that have no
// sensible default are "" (= not given).

open System
open Argu

/// Options every subcommand accepts (before or after the subcommand name).
type CommonArgs =
    { /// --threads: libtorch intra-op threads (and worker threads where a command has them); 0 = libtorch's default.
      Threads: int
      /// --device: "cpu", "cuda" or "cuda:N" (lower case).
      Device: string
      /// --seed: the seed of every random choice the command makes.
      Seed: int
      /// --verbose: debug-level logging.
      Verbose: bool }

/// `pafas synth`: write the synthetic multimodal face world (PNGs + manifest.jsonl with ground-truth cues).
type SynthArgs =
    { Out: string
      PerDomain: int
      Size: int
      /// Domain names (C, P, S, W by default).
      Domains: string list
      Common: CommonArgs }

/// `pafas inspect`: counts by domain, label, attack and modality; file checks.
type InspectArgs =
    { Data: string
      /// Folder that relative paths in the manifest are resolved against; "" = the manifest's folder.
      Root: string
      /// Read at most this many samples; 0 = all.
      Limit: int
      /// --no-check-files turns off the check that every image file exists and decodes.
      CheckFiles: bool
      /// --skip-bad: skip malformed lines (reported in a summary) instead of stopping at the first.
      SkipBad: bool
      Common: CommonArgs }

/// `pafas annotate`: per-modality cue annotations computed from the images.
type AnnotateArgs =
    { Data: string
      Root: string
      Out: string
      /// --report: also report agreement with the ground-truth cues of the manifest (the synthetic world).
      Report: bool
      SkipBad: bool
      Common: CommonArgs }

/// `pafas augment`: manifest + annotations -> SFT chains (PNRPS paths, shuffled answers) as JSONL.
type AugmentArgs =
    { Data: string
      /// Cue annotations JSONL (from `annotate` or any external model); "" = the cues in the manifest.
      Annotations: string
      Root: string
      Out: string
      /// N: reasoning paths per sample.
      Paths: int
      /// "answer" | "path" | "none".
      Shuffle: string
      /// "pnrps" (reasoning chains) | "raw" (answer only: the raw-label baseline).
      Mode: string
      /// Limited-annotation budget: this many labelled samples, chosen with the seed; 0 = all.
      Labelled: int
      /// PNRPS length factor: paths have at most Alpha * (D - 1) steps; > 1.
      Alpha: float
      /// Source domains to keep; [] = all.
      Domains: string list
      Common: CommonArgs }

/// `pafas sft`: supervised fine-tuning on augmented chains.
type SftArgs =
    { Chains: string
      /// Validation chains JSONL (validation loss, best checkpoint); "" = none.
      Val: string
      Root: string
      Out: string
      /// Model size: "tiny" | "small" | "base" (data/models.json).
      Preset: string
      /// Start from this checkpoint, run folder or pretrained pack (e.g. data/pretrained/small) instead of fresh
      /// weights of Preset; "" = fresh.
      Init: string
      /// "default" | "paper". The recipe sets Steps, Lr, Warmup and Schedule unless those are given explicitly
      /// (see CliDefaults.PaperSft*); the values below are already the resolved ones.
      Recipe: string
      Steps: int
      Lr: float
      Batch: int
      /// Gradient accumulation: optimiser step every GradAccum batches.
      GradAccum: int
      /// Linear warm-up steps; when not given, min(CliDefaults.Warmup, Steps / 10) (0 for the paper recipe).
      Warmup: int
      /// "cosine" | "constant" (after the linear warm-up).
      Schedule: string
      WeightDecay: float
      /// Gradient clipping by global norm; 0 = off.
      ClipGrad: float
      /// Validate (and keep best/) every K steps; 0 = only at the end.
      EvalEvery: int
      LogEvery: int
      /// Write last/ every K steps; 0 = only at the end.
      SaveEvery: int
      /// --resume: continue from <Out>/last (optimizer, RNG and step included).
      Resume: bool
      /// --force: delete the run files already in <Out> and start over.
      Force: bool
      Common: CommonArgs }

/// `pafas pretrain`: perception pretraining on an unlimited stream of randomized-sensor faces (no FAS labels).
type PretrainArgs =
    { Out: string
      /// Model size: "tiny" | "small" | "base".
      Preset: string
      Steps: int
      Lr: float
      /// Faces (sequences) per step.
      Batch: int
      Warmup: int
      /// "cosine" | "constant".
      Schedule: string
      /// Share of the describe task (the rest: the one-modality task), in [0, 1].
      DescribeShare: float
      /// Faces per protocol domain of the held-out perception probe; 0 = none.
      ProbePerDomain: int
      /// Seed of the probe's faces.
      ProbeSeed: int
      EvalEvery: int
      LogEvery: int
      SaveEvery: int
      /// After training, write final/ as a pretrained pack (float16 parts + pack.json) into this new folder; "" = no.
      Pack: string
      Resume: bool
      Force: bool
      Common: CommonArgs }

/// `pafas grpo`: GRPO from an SFT checkpoint.
type GrpoArgs =
    { /// Manifest of the source-domain samples that give the prompts.
      Data: string
      Root: string
      /// SFT run folder or checkpoint folder to start from.
      Init: string
      Out: string
      /// Validation manifest (mean reward / best checkpoint); "" = none.
      Val: string
      Steps: int
      /// Prompts per step (each with Group completions).
      Prompts: int
      /// G: completions per prompt.
      Group: int
      /// mu: policy iterations per batch of completions.
      Iterations: int
      Lr: float
      EpsLow: float
      EpsHigh: float
      Temperature: float
      TopP: float
      MaxNew: int
      /// "exact" | "binary" | "hierarchical" (the classification reward).
      RewardMode: string
      FormatWeight: float
      ClassWeight: float
      /// Advantage scaling: "group" | "batch" | "none".
      Scale: string
      /// Loss aggregation: "grpo" | "bnpo" | "dr_grpo" | "dapo".
      Loss: string
      /// KL coefficient beta to a frozen reference (k3 estimator); 0 = off, as in the paper.
      Kl: float
      ClipGrad: float
      Domains: string list
      EvalEvery: int
      LogEvery: int
      SaveEvery: int
      Resume: bool
      Force: bool
      Common: CommonArgs }

/// `pafas eval`: greedy chains + live scores on a test set, threshold from a validation set, report.
type EvalArgs =
    { /// Run folder or checkpoint folder.
      Model: string
      Data: string
      /// Validation manifest for the threshold; "" = none (the report then says the threshold came from test).
      Val: string
      Root: string
      Out: string
      /// Missing modalities at test (Protocol 2), canonical: "none" | "depth" | "ir" | "depth,ir".
      Drop: string
      /// Test domains to keep; [] = all.
      Domains: string list
      /// Validation domains to keep; [] = all.
      ValDomains: string list
      Batch: int
      MaxNew: int
      /// Protocol name (Protocols.tryFind) that sets domains and drop; "" = none.
      Protocol: string
      /// Sample chains written to the report per attack.
      ChainsPerAttack: int
      Common: CommonArgs }

/// `pafas predict`: verdict, taxonomy path, live score and reasoning for one face or a list.
type PredictArgs =
    { Model: string
      /// Image paths of one face; "" = that modality is absent.
      Rgb: string
      Depth: string
      Ir: string
      /// A manifest of many faces (JSONL or list file); "" = the single face given by Rgb/Depth/Ir.
      List: string
      Root: string
      /// Write JSON lines to this file; "" = print to stdout.
      Out: string
      /// --json: print JSON lines instead of the human-readable form.
      Json: bool
      MaxNew: int
      /// Decision threshold in [0, 1]; negative = the threshold stored with the model (from validation).
      Threshold: float
      Common: CommonArgs }

/// `pafas metrics`: FAS metrics from any system's scores.
type MetricsArgs =
    { /// JSONL or CSV with score,label[,attack[,domain]] (score: higher = more live; label 1/live = bona fide).
      Scores: string
      /// Validation scores for the threshold; "" = none.
      ValScores: string
      /// Folder for metrics.json and report.md; "" = print only.
      Out: string
      Common: CommonArgs }

/// `pafas score`: live scores only (no chains printed) for every sample of a manifest; with --completions,
/// the rewards and FAS metrics of completions written by any model (no model needed).
type ScoreArgs =
    { /// "" when --completions is given without --model.
      Model: string
      /// "" when --completions is given without --data (rewards then need a truth label on each completion line).
      Data: string
      Root: string
      /// Output JSONL (id, score, label, attack, domain): readable by `pafas metrics`.
      Out: string
      Drop: string
      Domains: string list
      Batch: int
      MaxNew: int
      /// JSONL of completions (id + text per line) to score instead of running a model; "" = none.
      Completions: string
      /// Classification reward of --completions: "exact" | "binary" | "hierarchical".
      RewardMode: string
      Common: CommonArgs }

/// `pafas export`: training data for other trainers (trl | llava | sharegpt | vlm-r1) or the model's weights
/// (safetensors).
type ExportArgs =
    { /// Run or checkpoint folder (safetensors only).
      Model: string
      /// Output folder (safetensors) or JSONL file (a folder gets <format>-<kind>.jsonl).
      Out: string
      /// "safetensors" | "trl" | "llava" | "sharegpt" | "vlm-r1".
      Format: string
      /// "sft" (chains of pafas augment) | "grpo" (manifest prompts with the ground truth) for the data formats.
      Kind: string
      /// Chains JSONL (sft) or manifest (grpo).
      Data: string
      Root: string
      Common: CommonArgs }

/// `pafas pipeline`: synth -> annotate -> augment -> SFT -> GRPO -> eval on the held-out domain -> report.
type PipelineArgs =
    { /// "demo" (minutes on a CPU) | "paper" (800 labelled, N = 50, 500 SFT + 500 GRPO steps).
      Preset: string
      Out: string
      /// The held-out (test) domain; the others are the sources.
      Holdout: string
      /// Overrides of the preset; 0 = the preset's value.
      SftSteps: int
      GrpoSteps: int
      PerDomain: int
      /// Model size preset override; "" = the pipeline preset's.
      Model: string
      /// SFT's initial weights: a pretrained pack, checkpoint or run folder; "" = the shipped pack of the model
      /// preset (data/pretrained/<preset>) when there is one.
      Pretrained: string
      /// --from-scratch: SFT starts from fresh weights (the ablation of pretraining).
      FromScratch: bool
      Common: CommonArgs }

/// `pafas split`: a protocol's train / validation / test manifests from one manifest.
type SplitArgs =
    { /// Manifest with every domain (e.g. the synthetic world's manifest.jsonl).
      Data: string
      /// Folder that relative paths in the manifest are resolved against; "" = the manifest's folder.
      Root: string
      /// Protocol name ("p1-W", "p3-PS", "CPS->W"; see Protocols.all).
      Protocol: string
      /// Folder for train.jsonl, val.jsonl, test.jsonl and split.json.
      Out: string
      /// Fraction of the source samples held out for validation (threshold, best checkpoint), in (0, 1).
      ValFraction: float
      Common: CommonArgs }

/// `pafas bench`: throughput of the synthetic world, augmentation and the model (training, decoding, GRPO,
/// prediction, memory, FLOP/s).
type BenchArgs =
    { /// Comma list of CliDefaults.BenchTargets ("all" = every one).
      What: string
      /// Model preset of the model benchmarks (sft, decode, grpo, predict, peak).
      Preset: string
      /// Checkpoint or run folder for decode / predict instead of fresh weights ("" = fresh).
      Model: string
      /// Folder for bench.json / bench.md.
      Out: string
      /// Repetitions of each measurement.
      Repeat: int
      Common: CommonArgs }

/// A parsed command line: one case per subcommand, plus `--version`.
[<RequireQualifiedAccess>]
type Command =
    | Synth of SynthArgs
    | Inspect of InspectArgs
    | Annotate of AnnotateArgs
    | Augment of AugmentArgs
    | Sft of SftArgs
    | Pretrain of PretrainArgs
    | Grpo of GrpoArgs
    | Eval of EvalArgs
    | Predict of PredictArgs
    | Metrics of MetricsArgs
    | Score of ScoreArgs
    | Export of ExportArgs
    | Pipeline of PipelineArgs
    | Split of SplitArgs
    | Bench of BenchArgs
    /// `pafas --version`: the host prints its version.
    | Version

/// Why a command line gave no command. IsHelp = true: Message is help text that was asked for (print to
/// stdout, exit 0). Otherwise Message is one line naming the bad option or value (print to stderr, exit 2).
/// Subcommand is the subcommand the line was for ("" if none), for a `pafas <cmd> --help` hint.
type CliError =
    { Message: string
      IsHelp: bool
      Subcommand: string }

/// The value of every option that is not given. Paths follow the pipeline's layout under runs/.
module CliDefaults =
    [<Literal>]
    let Threads = 0
    [<Literal>]
    let Device = "cpu"
    [<Literal>]
    let Seed = 42

    [<Literal>]
    let SynthDir = "runs/synth"
    [<Literal>]
    let Manifest = "runs/synth/manifest.jsonl"
    [<Literal>]
    let AnnotationsOut = "runs/synth/annotations.jsonl"
    [<Literal>]
    let Chains = "runs/chains.jsonl"
    [<Literal>]
    let SftOut = "runs/sft"
    [<Literal>]
    let GrpoOut = "runs/grpo"
    [<Literal>]
    let EvalOut = "runs/eval"
    [<Literal>]
    let ScoresOut = "runs/scores.jsonl"
    [<Literal>]
    let ExportOut = "runs/export"
    [<Literal>]
    let PipelineOut = "runs/pipeline"
    [<Literal>]
    let SplitOut = "runs/splits"
    [<Literal>]
    let ValFraction = 0.15
    [<Literal>]
    let BenchOut = "runs/bench"
    /// The model that eval / predict / score / export use when --model is not given.
    [<Literal>]
    let Model = GrpoOut

    let Domains = [ "C"; "P"; "S"; "W" ]
    [<Literal>]
    let PerDomain = 150
    [<Literal>]
    let Size = 64

    [<Literal>]
    let Paths = 50
    [<Literal>]
    let Shuffle = "answer"
    [<Literal>]
    let AugmentMode = "pnrps"
    [<Literal>]
    let Labelled = 800
    [<Literal>]
    let Alpha = 2.0

    [<Literal>]
    let ModelPreset = "small"
    [<Literal>]
    let Recipe = "default"
    [<Literal>]
    let SftSteps = 1000
    [<Literal>]
    let SftLr = 5e-4
    [<Literal>]
    let Batch = 16
    [<Literal>]
    let GradAccum = 1
    [<Literal>]
    let Warmup = 50
    [<Literal>]
    let Schedule = "cosine"
    [<Literal>]
    let WeightDecay = 0.01
    [<Literal>]
    let ClipGrad = 1.0
    [<Literal>]
    let EvalEvery = 100
    [<Literal>]
    let LogEvery = 10
    [<Literal>]
    let SaveEvery = 100

    /// `--recipe paper`: the paper's SFT schedule, 500 steps at a constant learning rate without warm-up. The
    /// paper's 1e-6 is for fully fine-tuning a pre-trained 3B model; our compact model starts from random weights
    /// and would barely move at 1e-6 in 500 steps, so the recipe keeps the paper's steps and constant schedule
    /// and uses 3e-4, a usual constant AdamW rate for a randomly initialised small transformer.
    [<Literal>]
    let PaperSftSteps = 500
    [<Literal>]
    let PaperSftLr = 3e-4
    [<Literal>]
    let PaperSftWarmup = 0
    [<Literal>]
    let PaperSftSchedule = "constant"

    [<Literal>]
    let PretrainOut = "runs/pretrain"
    [<Literal>]
    let PretrainSteps = 600
    [<Literal>]
    let PretrainLr = 1e-3
    [<Literal>]
    let PretrainBatch = 32
    [<Literal>]
    let PretrainWarmup = 30
    [<Literal>]
    let DescribeShare = 0.5
    [<Literal>]
    let ProbePerDomain = 24
    [<Literal>]
    let ProbeSeed = 7

    [<Literal>]
    let GrpoSteps = 500
    [<Literal>]
    let Prompts = 4
    [<Literal>]
    let Group = 8
    [<Literal>]
    let Iterations = 1
    [<Literal>]
    let GrpoLr = 1e-5
    [<Literal>]
    let EpsLow = 0.2
    [<Literal>]
    let EpsHigh = 0.28
    [<Literal>]
    let Temperature = 1.0
    [<Literal>]
    let TopP = 1.0
    [<Literal>]
    let MaxNew = 256
    [<Literal>]
    let RewardMode = "exact"
    [<Literal>]
    let FormatWeight = 1.0
    [<Literal>]
    let ClassWeight = 1.0
    [<Literal>]
    let Scale = "group"
    [<Literal>]
    let Loss = "grpo"
    [<Literal>]
    let Kl = 0.0
    [<Literal>]
    let GrpoEvalEvery = 50

    [<Literal>]
    let Drop = "none"
    [<Literal>]
    let EvalBatch = 32
    [<Literal>]
    let ChainsPerAttack = 2
    /// Negative = use the threshold stored with the model.
    [<Literal>]
    let Threshold = -1.0

    [<Literal>]
    let ExportFormat = "safetensors"
    [<Literal>]
    let ExportKind = "sft"
    [<Literal>]
    let CompletionScoresOut = "runs/completion-scores"
    [<Literal>]
    let PipelinePreset = "demo"
    [<Literal>]
    let Holdout = "W"
    [<Literal>]
    let BenchWhat = "all"
    [<Literal>]
    let BenchRepeat = 3
    [<Literal>]
    let BenchPreset = "small"

    /// The choices of the enumerated options (the first is not necessarily the default).
    let Shuffles = [ "answer"; "path"; "none" ]
    let AugmentModes = [ "pnrps"; "raw" ]
    let Presets = [ "tiny"; "small"; "base" ]
    let Recipes = [ "default"; "paper" ]
    let Schedules = [ "cosine"; "constant" ]
    let RewardModes = [ "exact"; "binary"; "hierarchical" ]
    let Scales = [ "group"; "batch"; "none" ]
    let Losses = [ "grpo"; "bnpo"; "dr_grpo"; "dapo" ]
    let ExportFormats = [ "safetensors"; "trl"; "llava"; "sharegpt"; "vlm-r1" ]
    let ExportKinds = [ "sft"; "grpo" ]
    let PipelinePresets = [ "demo"; "paper" ]
    let BenchTargets = [ "synth"; "augment"; "model"; "memory"; "sft"; "decode"; "grpo"; "predict"; "peak"; "all" ]

/// The Argu templates: internal, nothing of them reaches the host.
module internal CliGrammar =
    let d (x: obj) =
        match x with
        | :? float as f -> sprintf " (default %g)" f
        | _ -> sprintf " (default %O)" x

    type SynthArg =
        | Out of dir: string
        | Per_Domain of int
        | Size of pixels: int
        | Domains of csv: string
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Out _ -> "output folder for the PNGs and manifest.jsonl" + d CliDefaults.SynthDir
                | Per_Domain _ -> "samples per domain" + d CliDefaults.PerDomain
                | Size _ -> "image width and height" + d CliDefaults.Size
                | Domains _ -> "comma-separated domain names" + d (String.Join(",", CliDefaults.Domains))

    type InspectArg =
        | Data of manifest: string
        | Root of dir: string
        | Limit of int
        | No_Check_Files
        | Skip_Bad
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Data _ -> "manifest: JSONL or list file" + d CliDefaults.Manifest
                | Root _ -> "folder that relative image paths are resolved against (default: the manifest's folder)"
                | Limit _ -> "read at most this many samples; 0 = all (default 0)"
                | No_Check_Files -> "do not check that every image exists and decodes"
                | Skip_Bad -> "skip malformed lines and report them instead of stopping"

    type AnnotateArg =
        | Data of manifest: string
        | Root of dir: string
        | Out of file: string
        | Report
        | Skip_Bad
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Data _ -> "manifest: JSONL or list file" + d CliDefaults.Manifest
                | Root _ -> "folder that relative image paths are resolved against (default: the manifest's folder)"
                | Out _ -> "output annotations JSONL" + d CliDefaults.AnnotationsOut
                | Report -> "report agreement with the manifest's ground-truth cues, per cue type"
                | Skip_Bad -> "skip malformed lines and report them instead of stopping"

    type AugmentArg =
        | Data of manifest: string
        | Annotations of file: string
        | Root of dir: string
        | Out of file: string
        | Paths of n: int
        | Shuffle of mode: string
        | Mode of mode: string
        | Labelled of n: int
        | Alpha of float
        | Domains of csv: string
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Data _ -> "manifest: JSONL or list file" + d CliDefaults.Manifest
                | Annotations _ -> "cue annotations JSONL (from annotate or any model); default: the manifest's cues"
                | Root _ -> "folder that relative image paths are resolved against (default: the manifest's folder)"
                | Out _ -> "output chains JSONL" + d CliDefaults.Chains
                | Paths _ -> "N: PNRPS reasoning paths per sample" + d CliDefaults.Paths
                | Shuffle _ -> "answer | path | none" + d CliDefaults.Shuffle
                | Mode _ -> "pnrps (reasoning chains) | raw (the true answer only, never shuffled: the baseline)" + d CliDefaults.AugmentMode
                | Labelled _ -> "labelled-sample budget; 0 = all" + d CliDefaults.Labelled
                | Alpha _ -> "PNRPS path length factor, > 1: at most alpha*(D-1) steps" + d CliDefaults.Alpha
                | Domains _ -> "comma-separated source domains to keep (default: all)"

    type SftArg =
        | Chains of file: string
        | Val of file: string
        | Root of dir: string
        | Out of dir: string
        | Preset of name: string
        | Init of checkpoint: string
        | Recipe of name: string
        | Steps of int
        | Lr of float
        | Batch of int
        | Grad_Accum of int
        | Warmup of steps: int
        | Schedule of name: string
        | Weight_Decay of float
        | Clip_Grad of norm: float
        | Eval_Every of steps: int
        | Log_Every of steps: int
        | Save_Every of steps: int
        | Resume
        | Force
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Chains _ -> "training chains JSONL from augment" + d CliDefaults.Chains
                | Val _ -> "validation chains JSONL (validation loss, best checkpoint)"
                | Root _ -> "folder that relative image paths are resolved against"
                | Out _ -> "run folder" + d CliDefaults.SftOut
                | Preset _ -> "model size: tiny | small | base" + d CliDefaults.ModelPreset
                | Init _ -> "start from this checkpoint, run folder or pretrained pack (e.g. data/pretrained/small) instead of fresh weights"
                | Recipe _ ->
                    sprintf "default | paper (paper: %d steps, constant lr %g, no warm-up; explicit options win)"
                        CliDefaults.PaperSftSteps CliDefaults.PaperSftLr
                | Steps _ -> "optimiser steps" + d CliDefaults.SftSteps
                | Lr _ -> "peak learning rate (AdamW)" + d CliDefaults.SftLr
                | Batch _ -> "chains per batch" + d CliDefaults.Batch
                | Grad_Accum _ -> "batches per optimiser step" + d CliDefaults.GradAccum
                | Warmup _ -> sprintf "linear warm-up steps (default min(%d, steps/10))" CliDefaults.Warmup
                | Schedule _ -> "cosine | constant after warm-up" + d CliDefaults.Schedule
                | Weight_Decay _ -> "AdamW weight decay" + d CliDefaults.WeightDecay
                | Clip_Grad _ -> "clip gradients to this global norm; 0 = off" + d CliDefaults.ClipGrad
                | Eval_Every _ -> "validate every K steps; 0 = only at the end" + d CliDefaults.EvalEvery
                | Log_Every _ -> "log metrics every K steps" + d CliDefaults.LogEvery
                | Save_Every _ -> "checkpoint last/ every K steps; 0 = only at the end" + d CliDefaults.SaveEvery
                | Resume -> "continue from <out>/last (optimizer, RNG state and step)"
                | Force -> "delete the run already in <out> and start over"

    type PretrainArg =
        | Out of dir: string
        | Preset of name: string
        | Steps of int
        | Lr of float
        | Batch of int
        | Warmup of steps: int
        | Schedule of name: string
        | Describe_Share of float
        | Probe_Per_Domain of int
        | Probe_Seed of int
        | Eval_Every of steps: int
        | Log_Every of steps: int
        | Save_Every of steps: int
        | Pack of dir: string
        | Resume
        | Force
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Out _ -> "run folder" + d CliDefaults.PretrainOut
                | Preset _ -> "model size: tiny | small | base" + d CliDefaults.ModelPreset
                | Steps _ -> "optimiser steps" + d CliDefaults.PretrainSteps
                | Lr _ -> "peak learning rate (AdamW)" + d CliDefaults.PretrainLr
                | Batch _ -> "stream faces per step" + d CliDefaults.PretrainBatch
                | Warmup _ -> "linear warm-up steps" + d CliDefaults.PretrainWarmup
                | Schedule _ -> "cosine | constant after warm-up" + d CliDefaults.Schedule
                | Describe_Share _ -> "share of the describe task (the rest: describe one named modality)" + d CliDefaults.DescribeShare
                | Probe_Per_Domain _ -> "held-out probe faces per protocol domain C, P, S, W; 0 = none" + d CliDefaults.ProbePerDomain
                | Probe_Seed _ -> "seed of the probe's faces" + d CliDefaults.ProbeSeed
                | Eval_Every _ -> "run the perception probe every K steps; 0 = only at the end" + d CliDefaults.EvalEvery
                | Log_Every _ -> "log metrics every K steps" + d CliDefaults.LogEvery
                | Save_Every _ -> "checkpoint last/ every K steps; 0 = only at the end" + d CliDefaults.SaveEvery
                | Pack _ -> "write final/ as a pretrained pack (float16 parts + pack.json) into this new folder"
                | Resume -> "continue from <out>/last"
                | Force -> "delete the run already in <out> and start over"

    type GrpoArg =
        | Data of manifest: string
        | Root of dir: string
        | Init of run: string
        | Out of dir: string
        | Val of manifest: string
        | Steps of int
        | Prompts of int
        | Group of int
        | Iterations of int
        | Lr of float
        | Eps_Low of float
        | Eps_High of float
        | Temperature of float
        | Top_P of float
        | Max_New of tokens: int
        | Reward_Mode of mode: string
        | Format_Weight of float
        | Class_Weight of float
        | Scale of mode: string
        | Loss of name: string
        | Kl of beta: float
        | Clip_Grad of norm: float
        | Domains of csv: string
        | Eval_Every of steps: int
        | Log_Every of steps: int
        | Save_Every of steps: int
        | Resume
        | Force
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Data _ -> "manifest of the source-domain prompts" + d CliDefaults.Manifest
                | Root _ -> "folder that relative image paths are resolved against"
                | Init _ -> "SFT run or checkpoint folder to start from" + d CliDefaults.SftOut
                | Out _ -> "run folder" + d CliDefaults.GrpoOut
                | Val _ -> "validation manifest (mean reward, best checkpoint)"
                | Steps _ -> "GRPO steps" + d CliDefaults.GrpoSteps
                | Prompts _ -> "prompts per step" + d CliDefaults.Prompts
                | Group _ -> "G: completions per prompt" + d CliDefaults.Group
                | Iterations _ -> "mu: policy iterations per batch" + d CliDefaults.Iterations
                | Lr _ -> "learning rate" + d CliDefaults.GrpoLr
                | Eps_Low _ -> "lower clip epsilon of the ratio" + d CliDefaults.EpsLow
                | Eps_High _ -> "upper clip epsilon of the ratio" + d CliDefaults.EpsHigh
                | Temperature _ -> "sampling temperature, > 0" + d CliDefaults.Temperature
                | Top_P _ -> "nucleus sampling mass in (0, 1]" + d CliDefaults.TopP
                | Max_New _ -> "maximum completion tokens" + d CliDefaults.MaxNew
                | Reward_Mode _ -> "classification reward: exact | binary | hierarchical" + d CliDefaults.RewardMode
                | Format_Weight _ -> "weight of the format reward" + d CliDefaults.FormatWeight
                | Class_Weight _ -> "weight of the classification reward" + d CliDefaults.ClassWeight
                | Scale _ -> "advantage scaling: group | batch | none" + d CliDefaults.Scale
                | Loss _ -> "loss aggregation: grpo | bnpo | dr_grpo | dapo" + d CliDefaults.Loss
                | Kl _ -> "KL coefficient to the frozen SFT model; 0 = off" + d CliDefaults.Kl
                | Clip_Grad _ -> "clip gradients to this global norm; 0 = off" + d CliDefaults.ClipGrad
                | Domains _ -> "comma-separated source domains to keep (default: all)"
                | Eval_Every _ -> "validate every K steps; 0 = only at the end" + d CliDefaults.GrpoEvalEvery
                | Log_Every _ -> "log metrics every K steps" + d CliDefaults.LogEvery
                | Save_Every _ -> "checkpoint last/ every K steps; 0 = only at the end" + d CliDefaults.SaveEvery
                | Resume -> "continue from <out>/last"
                | Force -> "delete the run already in <out> and start over"

    type EvalArg =
        | Model of run: string
        | Data of manifest: string
        | Val of manifest: string
        | Root of dir: string
        | Out of dir: string
        | Drop of modalities: string
        | Domains of csv: string
        | Val_Domains of csv: string
        | Batch of int
        | Max_New of tokens: int
        | Protocol of name: string
        | Chains_Per_Attack of int
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Model _ -> "run or checkpoint folder" + d CliDefaults.Model
                | Data _ -> "test manifest" + d CliDefaults.Manifest
                | Val _ -> "validation manifest: the decision threshold is its EER threshold"
                | Root _ -> "folder that relative image paths are resolved against"
                | Out _ -> "report folder" + d CliDefaults.EvalOut
                | Drop _ -> "modalities missing at test: none | depth | ir | depth,ir" + d CliDefaults.Drop
                | Domains _ -> "comma-separated test domains (default: all)"
                | Val_Domains _ -> "comma-separated validation domains (default: all)"
                | Batch _ -> "faces per forward pass" + d CliDefaults.EvalBatch
                | Max_New _ -> "maximum completion tokens" + d CliDefaults.MaxNew
                | Protocol _ -> "a named protocol that sets domains and drop"
                | Chains_Per_Attack _ -> "sample chains in the report per attack" + d CliDefaults.ChainsPerAttack

    type PredictArg =
        | Model of run: string
        | Rgb of image: string
        | Depth of image: string
        | Ir of image: string
        | List of manifest: string
        | Root of dir: string
        | Out of file: string
        | Json
        | Max_New of tokens: int
        | Threshold of float
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Model _ -> "run or checkpoint folder" + d CliDefaults.Model
                | Rgb _ -> "RGB image of one face"
                | Depth _ -> "depth image of the face (absent if not given)"
                | Ir _ -> "IR image of the face (absent if not given)"
                | List _ -> "manifest of many faces (JSONL or list file); output as JSON lines"
                | Root _ -> "folder that relative image paths are resolved against"
                | Out _ -> "write JSON lines to this file (default: stdout)"
                | Json -> "print JSON lines instead of text"
                | Max_New _ -> "maximum completion tokens" + d CliDefaults.MaxNew
                | Threshold _ -> "live-score decision threshold in [0,1] (default: the model's validation threshold)"

    type MetricsArg =
        | [<Mandatory>] Scores of file: string
        | Val_Scores of file: string
        | Out of dir: string
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Scores _ -> "JSONL or CSV with score,label[,attack[,domain]]; higher score = more live"
                | Val_Scores _ -> "validation scores in the same format: the threshold is their EER threshold"
                | Out _ -> "write metrics.json and report.md here (default: print only)"

    type ScoreArg =
        | Model of run: string
        | Data of manifest: string
        | Root of dir: string
        | Out of file: string
        | Drop of modalities: string
        | Domains of csv: string
        | Batch of int
        | Max_New of tokens: int
        | Completions of file: string
        | Reward_Mode of mode: string
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Model _ -> "run or checkpoint folder" + d CliDefaults.Model + " (not needed with --completions)"
                | Data _ -> "manifest" + d CliDefaults.Manifest + " (optional with --completions: the truth labels)"
                | Root _ -> "folder that relative image paths are resolved against"
                | Out _ -> "scores JSONL (readable by pafas metrics)" + d CliDefaults.ScoresOut + "; with --completions the report folder" + d CliDefaults.CompletionScoresOut
                | Completions _ -> "JSONL of any model's completions (id/sample_id + text/completion/response): rewards, format failures, FAS metrics"
                | Reward_Mode _ -> "classification reward of --completions: exact | binary | hierarchical" + d CliDefaults.RewardMode
                | Drop _ -> "modalities to treat as missing: none | depth | ir | depth,ir" + d CliDefaults.Drop
                | Domains _ -> "comma-separated domains to keep (default: all)"
                | Batch _ -> "faces per forward pass" + d CliDefaults.EvalBatch
                | Max_New _ -> "maximum completion tokens" + d CliDefaults.MaxNew

    type ExportArg =
        | Model of run: string
        | Out of path: string
        | Format of name: string
        | Kind of name: string
        | Data of file: string
        | Root of dir: string
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Model _ -> "run or checkpoint folder (--format safetensors)" + d CliDefaults.Model
                | Out _ -> "output folder (safetensors) or JSONL file (data formats)" + d CliDefaults.ExportOut
                | Format _ -> "safetensors | trl | llava | sharegpt | vlm-r1" + d CliDefaults.ExportFormat
                | Kind _ -> "data formats: sft (chains) | grpo (prompts + ground truth)" + d CliDefaults.ExportKind
                | Data _ -> "chains JSONL of pafas augment (sft)" + d CliDefaults.Chains + " or manifest (grpo)" + d CliDefaults.Manifest
                | Root _ -> "folder that relative image paths are resolved against"

    type SplitArg =
        | Data of manifest: string
        | Root of dir: string
        | [<Mandatory>] Protocol of name: string
        | Out of dir: string
        | Val_Fraction of float
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Data _ -> "manifest with every domain" + d CliDefaults.Manifest
                | Root _ -> "folder that relative image paths are resolved against"
                | Protocol _ -> "protocol: p1-C|P|S|W, p3-PS|CW, or the arrow form CPS->W (Protocol 2 = Protocol 1 splits + eval --drop)"
                | Out _ -> "folder for train.jsonl, val.jsonl, test.jsonl, split.json" + d CliDefaults.SplitOut
                | Val_Fraction _ -> "fraction of the source samples kept for validation" + d CliDefaults.ValFraction

    type PipelineArg =
        | Preset of name: string
        | Out of dir: string
        | Holdout of domain: string
        | Sft_Steps of int
        | Grpo_Steps of int
        | Per_Domain of int
        | Model of preset: string
        | Pretrained of dir: string
        | From_Scratch
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Preset _ -> "demo (minutes on a CPU) | paper (the paper's settings)" + d CliDefaults.PipelinePreset
                | Out _ -> "output folder" + d CliDefaults.PipelineOut
                | Holdout _ -> "held-out test domain; the others are the sources" + d CliDefaults.Holdout
                | Sft_Steps _ -> "override the preset's SFT steps"
                | Grpo_Steps _ -> "override the preset's GRPO steps"
                | Per_Domain _ -> "override the preset's synthetic samples per domain"
                | Model _ -> "override the preset's model size: tiny | small | base"
                | Pretrained _ -> "SFT's initial weights: pretrained pack, checkpoint or run folder (default: data/pretrained/<model> when shipped)"
                | From_Scratch -> "SFT starts from fresh weights, not the pretrained backbone (ablation)"

    type BenchArg =
        | What of target: string
        | Out of dir: string
        | Repeat of int
        | Preset of name: string
        | Model of path: string
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | What _ -> "comma list of " + String.concat " | " CliDefaults.BenchTargets + d CliDefaults.BenchWhat
                | Preset _ -> "model preset of sft, decode, grpo, predict, peak: tiny | small | base" + d CliDefaults.BenchPreset
                | Model _ -> "checkpoint or run folder for decode and predict (default: fresh weights of --preset)"
                | Out _ -> "output folder" + d CliDefaults.BenchOut
                | Repeat _ -> "repetitions per measurement" + d CliDefaults.BenchRepeat

    type TopArg =
        | [<Inherit>] Threads of int
        | [<Inherit>] Device of name: string
        | [<Inherit>] Seed of int
        | [<Inherit; AltCommandLine("-v")>] Verbose
        | Version
        | [<CliPrefix(CliPrefix.None)>] Synth of ParseResults<SynthArg>
        | [<CliPrefix(CliPrefix.None)>] Inspect of ParseResults<InspectArg>
        | [<CliPrefix(CliPrefix.None)>] Annotate of ParseResults<AnnotateArg>
        | [<CliPrefix(CliPrefix.None)>] Augment of ParseResults<AugmentArg>
        | [<CliPrefix(CliPrefix.None)>] Sft of ParseResults<SftArg>
        | [<CliPrefix(CliPrefix.None)>] Pretrain of ParseResults<PretrainArg>
        | [<CliPrefix(CliPrefix.None)>] Grpo of ParseResults<GrpoArg>
        | [<CliPrefix(CliPrefix.None)>] Eval of ParseResults<EvalArg>
        | [<CliPrefix(CliPrefix.None)>] Predict of ParseResults<PredictArg>
        | [<CliPrefix(CliPrefix.None)>] Metrics of ParseResults<MetricsArg>
        | [<CliPrefix(CliPrefix.None)>] Score of ParseResults<ScoreArg>
        | [<CliPrefix(CliPrefix.None)>] Export of ParseResults<ExportArg>
        | [<CliPrefix(CliPrefix.None)>] Pipeline of ParseResults<PipelineArg>
        | [<CliPrefix(CliPrefix.None)>] Split of ParseResults<SplitArg>
        | [<CliPrefix(CliPrefix.None)>] Bench of ParseResults<BenchArg>
        interface IArgParserTemplate with
            member a.Usage =
                match a with
                | Threads _ -> "libtorch / worker threads; 0 = libtorch's default (default 0)"
                | Device _ -> "cpu | cuda | cuda:N" + d CliDefaults.Device
                | Seed _ -> "random seed" + d CliDefaults.Seed
                | Verbose -> "debug logging"
                | Version -> "print the version and exit"
                | Synth _ -> "write the synthetic multimodal face world (PNGs + manifest.jsonl)"
                | Inspect _ -> "count a manifest's samples by domain, label, attack, modality; check files"
                | Annotate _ -> "compute per-modality cue annotations from the images"
                | Augment _ -> "manifest + cues -> PNRPS reasoning chains with answer shuffling (JSONL)"
                | Sft _ -> "supervised fine-tuning on augmented chains"
                | Pretrain _ -> "perception pretraining on randomized-sensor faces (describe the modalities; no FAS labels)"
                | Grpo _ -> "GRPO from an SFT checkpoint"
                | Eval _ -> "evaluate a model on a test set: HTER, AUC, ACER, APCER, BPCER, EER, report"
                | Predict _ -> "verdict, taxonomy path, live score and reasoning for faces"
                | Metrics _ -> "FAS metrics from any system's scores (JSONL or CSV)"
                | Score _ -> "live scores of a manifest's samples (JSONL for pafas metrics)"
                | Export _ -> "export training data for TRL/LLaVA/LLaMA-Factory/VLM-R1 or the model as safetensors"
                | Pipeline _ -> "the whole job: synth, annotate, augment, SFT, GRPO, eval on the held-out domain"
                | Split _ -> "a protocol's train / validation / test manifests from one manifest"
                | Bench _ -> "throughput of synth, augment and the model"

/// Parses `pafas` command lines into Command values.
module Cli =
    open CliGrammar

    /// A bad value found after Argu's parse: the message names the option.
    exception private Invalid of string

    let private invalid fmt = Printf.kprintf (fun s -> raise (Invalid s)) fmt

    /// Subcommand names in the order of the help text.
    let subcommands =
        [ "synth"; "inspect"; "annotate"; "augment"; "pretrain"; "sft"; "grpo"; "eval"; "predict"; "metrics"; "score"
          "export"; "pipeline"; "split"; "bench" ]

    let private parser =
        lazy
            (ArgumentParser.Create<TopArg>(
                programName = "pafas",
                helpTextMessage =
                    "PA-FAS: interpretable multimodal face anti-spoofing (reasoning-path augmentation, answer shuffling, GRPO)."
            ))

    /// The top-level help text.
    let usage () = parser.Value.PrintUsage()

    /// The subcommand name of a command ("version" for --version).
    let commandName (c: Command) =
        match c with
        | Command.Synth _ -> "synth"
        | Command.Inspect _ -> "inspect"
        | Command.Annotate _ -> "annotate"
        | Command.Augment _ -> "augment"
        | Command.Sft _ -> "sft"
        | Command.Pretrain _ -> "pretrain"
        | Command.Grpo _ -> "grpo"
        | Command.Eval _ -> "eval"
        | Command.Predict _ -> "predict"
        | Command.Metrics _ -> "metrics"
        | Command.Score _ -> "score"
        | Command.Export _ -> "export"
        | Command.Pipeline _ -> "pipeline"
        | Command.Split _ -> "split"
        | Command.Bench _ -> "bench"
        | Command.Version -> "version"

    let private defaultCommon =
        { Threads = CliDefaults.Threads; Device = CliDefaults.Device; Seed = CliDefaults.Seed; Verbose = false }

    /// The global options of a command (the defaults for --version).
    let common (c: Command) =
        match c with
        | Command.Synth a -> a.Common
        | Command.Inspect a -> a.Common
        | Command.Annotate a -> a.Common
        | Command.Augment a -> a.Common
        | Command.Sft a -> a.Common
        | Command.Pretrain a -> a.Common
        | Command.Grpo a -> a.Common
        | Command.Eval a -> a.Common
        | Command.Predict a -> a.Common
        | Command.Metrics a -> a.Common
        | Command.Score a -> a.Common
        | Command.Export a -> a.Common
        | Command.Pipeline a -> a.Common
        | Command.Split a -> a.Common
        | Command.Bench a -> a.Common
        | Command.Version -> defaultCommon

    // ---- value checks: each names its option ----

    let private atLeast lo (name: string) (v: int) =
        if v < lo then invalid "--%s must be at least %d (got %d)" name lo v
        v

    let private finite (name: string) (v: float) =
        if Double.IsNaN v || Double.IsInfinity v then invalid "--%s must be a finite number (got %g)" name v
        v

    let private positiveF name v =
        if finite name v <= 0.0 then invalid "--%s must be greater than 0 (got %g)" name v
        v

    let private nonNegativeF name v =
        if finite name v < 0.0 then invalid "--%s must not be negative (got %g)" name v
        v

    let private inUnit name v =
        if finite name v <= 0.0 || v > 1.0 then invalid "--%s must be in (0, 1] (got %g)" name v
        v

    let private oneOf (name: string) (choices: string list) (v: string) =
        let n = v.Trim().ToLowerInvariant()
        if List.contains n choices then n
        else invalid "--%s must be one of %s (got '%s')" name (String.Join(" | ", choices)) v

    let private path (name: string) (v: string) =
        if String.IsNullOrWhiteSpace v then invalid "--%s needs a path (got an empty value)" name
        v.Trim()

    let private domainList (name: string) (v: string) =
        let parts = v.Split(',') |> Array.map (fun s -> s.Trim()) |> List.ofArray
        if parts |> List.exists (fun s -> s = "") then
            invalid "--%s must be comma-separated domain names, e.g. C,P,S (got '%s')" name v
        List.distinct parts

    /// Canonical drop spec: "none" | "depth" | "ir" | "depth,ir".
    let private drop (name: string) (v: string) =
        let parts =
            v.Split(',')
            |> Array.map (fun s -> s.Trim().ToLowerInvariant())
            |> Array.filter (fun s -> s <> "")
            |> Array.collect (fun s -> if s = "both" then [| "depth"; "ir" |] else [| s |])
            |> Array.distinct
        let bad = parts |> Array.filter (fun s -> s <> "none" && s <> "depth" && s <> "ir")
        if bad.Length > 0 || parts.Length = 0 || (Array.contains "none" parts && parts.Length > 1) then
            invalid "--%s must be none | depth | ir | depth,ir (got '%s')" name v
        match Array.contains "depth" parts, Array.contains "ir" parts with
        | true, true -> "depth,ir"
        | true, false -> "depth"
        | false, true -> "ir"
        | false, false -> "none"

    let private device (v: string) =
        let n = v.Trim().ToLowerInvariant()
        let isCudaN =
            n.StartsWith "cuda:" && n.Length > 5 && n.Substring(5) |> Seq.forall Char.IsDigit
        if n = "cpu" || n = "cuda" || isCudaN then n
        else invalid "--device must be cpu, cuda or cuda:N (got '%s')" v

    let private threshold (v: float) =
        if Double.IsNaN v || v < 0.0 || v > 1.0 then invalid "--threshold must be in [0, 1] (got %g)" v
        v

    // ---- ParseResults -> records ----

    /// Argu's results, newest first (the last occurrence of a repeated option wins). Reading them by pattern
    /// is much faster than ParseResults.GetResult, which evaluates a quotation per call.
    let private newestFirst (r: ParseResults<'T>) = List.rev (r.GetAllResults())

    let private tryGet (results: 'T list) (f: 'T -> 'a option) = List.tryPick f results
    let private get results f (orElse: 'a) = tryGet results f |> Option.defaultValue orElse
    let private has (results: 'T list) (f: 'T -> bool) = List.exists f results

    let private commonOf (pr: ParseResults<TopArg>) =
        let top = newestFirst pr
        { Threads = get top (function TopArg.Threads v -> Some v | _ -> None) CliDefaults.Threads |> atLeast 0 "threads"
          Device = get top (function TopArg.Device v -> Some v | _ -> None) CliDefaults.Device |> device
          Seed = get top (function TopArg.Seed v -> Some v | _ -> None) CliDefaults.Seed
          Verbose = has top (function TopArg.Verbose -> true | _ -> false) }

    let private synth c (pr: ParseResults<SynthArg>) : SynthArgs =
        let r = newestFirst pr
        { Out = get r (function SynthArg.Out v -> Some v | _ -> None) CliDefaults.SynthDir |> path "out"
          PerDomain = get r (function SynthArg.Per_Domain v -> Some v | _ -> None) CliDefaults.PerDomain |> atLeast 1 "per-domain"
          Size = get r (function SynthArg.Size v -> Some v | _ -> None) CliDefaults.Size |> atLeast 16 "size"
          Domains =
            match tryGet r (function SynthArg.Domains v -> Some v | _ -> None) with
            | Some v -> domainList "domains" v
            | None -> CliDefaults.Domains
          Common = c }

    let private domainsOr (name: string) (v: string option) =
        match v with
        | Some v -> domainList name v
        | None -> []

    let private inspect c (pr: ParseResults<InspectArg>) : InspectArgs =
        let r = newestFirst pr
        { Data = get r (function InspectArg.Data v -> Some v | _ -> None) CliDefaults.Manifest |> path "data"
          Root = get r (function InspectArg.Root v -> Some v | _ -> None) ""
          Limit = get r (function InspectArg.Limit v -> Some v | _ -> None) 0 |> atLeast 0 "limit"
          CheckFiles = not (has r (function InspectArg.No_Check_Files -> true | _ -> false))
          SkipBad = has r (function InspectArg.Skip_Bad -> true | _ -> false)
          Common = c }

    let private annotate c (pr: ParseResults<AnnotateArg>) : AnnotateArgs =
        let r = newestFirst pr
        { Data = get r (function AnnotateArg.Data v -> Some v | _ -> None) CliDefaults.Manifest |> path "data"
          Root = get r (function AnnotateArg.Root v -> Some v | _ -> None) ""
          Out = get r (function AnnotateArg.Out v -> Some v | _ -> None) CliDefaults.AnnotationsOut |> path "out"
          Report = has r (function AnnotateArg.Report -> true | _ -> false)
          SkipBad = has r (function AnnotateArg.Skip_Bad -> true | _ -> false)
          Common = c }

    let private augment c (pr: ParseResults<AugmentArg>) : AugmentArgs =
        let r = newestFirst pr
        let alpha = get r (function AugmentArg.Alpha v -> Some v | _ -> None) CliDefaults.Alpha |> finite "alpha"
        if alpha <= 1.0 then invalid "--alpha must be greater than 1 (got %g)" alpha
        { Data = get r (function AugmentArg.Data v -> Some v | _ -> None) CliDefaults.Manifest |> path "data"
          Annotations = get r (function AugmentArg.Annotations v -> Some v | _ -> None) ""
          Root = get r (function AugmentArg.Root v -> Some v | _ -> None) ""
          Out = get r (function AugmentArg.Out v -> Some v | _ -> None) CliDefaults.Chains |> path "out"
          Paths = get r (function AugmentArg.Paths v -> Some v | _ -> None) CliDefaults.Paths |> atLeast 1 "paths"
          Shuffle = get r (function AugmentArg.Shuffle v -> Some v | _ -> None) CliDefaults.Shuffle |> oneOf "shuffle" CliDefaults.Shuffles
          Mode = get r (function AugmentArg.Mode v -> Some v | _ -> None) CliDefaults.AugmentMode |> oneOf "mode" CliDefaults.AugmentModes
          Labelled = get r (function AugmentArg.Labelled v -> Some v | _ -> None) CliDefaults.Labelled |> atLeast 0 "labelled"
          Alpha = alpha
          Domains = tryGet r (function AugmentArg.Domains v -> Some v | _ -> None) |> domainsOr "domains"
          Common = c }

    let private sft c (pr: ParseResults<SftArg>) : SftArgs =
        let r = newestFirst pr
        let recipe = get r (function SftArg.Recipe v -> Some v | _ -> None) CliDefaults.Recipe |> oneOf "recipe" CliDefaults.Recipes
        let paper = recipe = "paper"
        let steps = get r (function SftArg.Steps v -> Some v | _ -> None) (if paper then CliDefaults.PaperSftSteps else CliDefaults.SftSteps) |> atLeast 1 "steps"
        let warmup =
            match tryGet r (function SftArg.Warmup v -> Some v | _ -> None) with
            | Some w ->
                if atLeast 0 "warmup" w > steps then invalid "--warmup (%d) must not exceed --steps (%d)" w steps
                w
            | None when paper -> CliDefaults.PaperSftWarmup
            | None -> min CliDefaults.Warmup (steps / 10)
        { Chains = get r (function SftArg.Chains v -> Some v | _ -> None) CliDefaults.Chains |> path "chains"
          Val = get r (function SftArg.Val v -> Some v | _ -> None) ""
          Root = get r (function SftArg.Root v -> Some v | _ -> None) ""
          Out = get r (function SftArg.Out v -> Some v | _ -> None) CliDefaults.SftOut |> path "out"
          Preset = get r (function SftArg.Preset v -> Some v | _ -> None) CliDefaults.ModelPreset |> oneOf "preset" CliDefaults.Presets
          Init = tryGet r (function SftArg.Init v -> Some v | _ -> None) |> Option.map (path "init") |> Option.defaultValue ""
          Recipe = recipe
          Steps = steps
          Lr = get r (function SftArg.Lr v -> Some v | _ -> None) (if paper then CliDefaults.PaperSftLr else CliDefaults.SftLr) |> positiveF "lr"
          Batch = get r (function SftArg.Batch v -> Some v | _ -> None) CliDefaults.Batch |> atLeast 1 "batch"
          GradAccum = get r (function SftArg.Grad_Accum v -> Some v | _ -> None) CliDefaults.GradAccum |> atLeast 1 "grad-accum"
          Warmup = warmup
          Schedule =
            get r (function SftArg.Schedule v -> Some v | _ -> None) (if paper then CliDefaults.PaperSftSchedule else CliDefaults.Schedule)
            |> oneOf "schedule" CliDefaults.Schedules
          WeightDecay = get r (function SftArg.Weight_Decay v -> Some v | _ -> None) CliDefaults.WeightDecay |> nonNegativeF "weight-decay"
          ClipGrad = get r (function SftArg.Clip_Grad v -> Some v | _ -> None) CliDefaults.ClipGrad |> nonNegativeF "clip-grad"
          EvalEvery = get r (function SftArg.Eval_Every v -> Some v | _ -> None) CliDefaults.EvalEvery |> atLeast 0 "eval-every"
          LogEvery = get r (function SftArg.Log_Every v -> Some v | _ -> None) CliDefaults.LogEvery |> atLeast 1 "log-every"
          SaveEvery = get r (function SftArg.Save_Every v -> Some v | _ -> None) CliDefaults.SaveEvery |> atLeast 0 "save-every"
          Resume = has r (function SftArg.Resume -> true | _ -> false)
          Force =
            let force = has r (function SftArg.Force -> true | _ -> false)
            if force && has r (function SftArg.Resume -> true | _ -> false) then invalid "--resume and --force exclude each other"
            force
          Common = c }

    let private pretrain c (pr: ParseResults<PretrainArg>) : PretrainArgs =
        let r = newestFirst pr
        let steps = get r (function PretrainArg.Steps v -> Some v | _ -> None) CliDefaults.PretrainSteps |> atLeast 1 "steps"
        let warmup = get r (function PretrainArg.Warmup v -> Some v | _ -> None) (min CliDefaults.PretrainWarmup (steps / 10)) |> atLeast 0 "warmup"
        if warmup > steps then invalid "--warmup (%d) must not exceed --steps (%d)" warmup steps
        let share = get r (function PretrainArg.Describe_Share v -> Some v | _ -> None) CliDefaults.DescribeShare |> finite "describe-share"
        if share < 0.0 || share > 1.0 then invalid "--describe-share must be in [0, 1] (got %g)" share
        { Out = get r (function PretrainArg.Out v -> Some v | _ -> None) CliDefaults.PretrainOut |> path "out"
          Preset = get r (function PretrainArg.Preset v -> Some v | _ -> None) CliDefaults.ModelPreset |> oneOf "preset" CliDefaults.Presets
          Steps = steps
          Lr = get r (function PretrainArg.Lr v -> Some v | _ -> None) CliDefaults.PretrainLr |> positiveF "lr"
          Batch = get r (function PretrainArg.Batch v -> Some v | _ -> None) CliDefaults.PretrainBatch |> atLeast 1 "batch"
          Warmup = warmup
          Schedule = get r (function PretrainArg.Schedule v -> Some v | _ -> None) CliDefaults.Schedule |> oneOf "schedule" CliDefaults.Schedules
          DescribeShare = share
          ProbePerDomain = get r (function PretrainArg.Probe_Per_Domain v -> Some v | _ -> None) CliDefaults.ProbePerDomain |> atLeast 0 "probe-per-domain"
          ProbeSeed = get r (function PretrainArg.Probe_Seed v -> Some v | _ -> None) CliDefaults.ProbeSeed
          EvalEvery = get r (function PretrainArg.Eval_Every v -> Some v | _ -> None) CliDefaults.EvalEvery |> atLeast 0 "eval-every"
          LogEvery = get r (function PretrainArg.Log_Every v -> Some v | _ -> None) CliDefaults.LogEvery |> atLeast 1 "log-every"
          SaveEvery = get r (function PretrainArg.Save_Every v -> Some v | _ -> None) CliDefaults.SaveEvery |> atLeast 0 "save-every"
          Pack = tryGet r (function PretrainArg.Pack v -> Some v | _ -> None) |> Option.map (path "pack") |> Option.defaultValue ""
          Resume = has r (function PretrainArg.Resume -> true | _ -> false)
          Force =
            let force = has r (function PretrainArg.Force -> true | _ -> false)
            if force && has r (function PretrainArg.Resume -> true | _ -> false) then invalid "--resume and --force exclude each other"
            force
          Common = c }

    let private grpo c (pr: ParseResults<GrpoArg>) : GrpoArgs =
        let r = newestFirst pr
        let group = get r (function GrpoArg.Group v -> Some v | _ -> None) CliDefaults.Group |> atLeast 2 "group"
        { Data = get r (function GrpoArg.Data v -> Some v | _ -> None) CliDefaults.Manifest |> path "data"
          Root = get r (function GrpoArg.Root v -> Some v | _ -> None) ""
          Init = get r (function GrpoArg.Init v -> Some v | _ -> None) CliDefaults.SftOut |> path "init"
          Out = get r (function GrpoArg.Out v -> Some v | _ -> None) CliDefaults.GrpoOut |> path "out"
          Val = get r (function GrpoArg.Val v -> Some v | _ -> None) ""
          Steps = get r (function GrpoArg.Steps v -> Some v | _ -> None) CliDefaults.GrpoSteps |> atLeast 1 "steps"
          Prompts = get r (function GrpoArg.Prompts v -> Some v | _ -> None) CliDefaults.Prompts |> atLeast 1 "prompts"
          Group = group
          Iterations = get r (function GrpoArg.Iterations v -> Some v | _ -> None) CliDefaults.Iterations |> atLeast 1 "iterations"
          Lr = get r (function GrpoArg.Lr v -> Some v | _ -> None) CliDefaults.GrpoLr |> positiveF "lr"
          EpsLow = get r (function GrpoArg.Eps_Low v -> Some v | _ -> None) CliDefaults.EpsLow |> nonNegativeF "eps-low"
          EpsHigh = get r (function GrpoArg.Eps_High v -> Some v | _ -> None) CliDefaults.EpsHigh |> nonNegativeF "eps-high"
          Temperature = get r (function GrpoArg.Temperature v -> Some v | _ -> None) CliDefaults.Temperature |> positiveF "temperature"
          TopP = get r (function GrpoArg.Top_P v -> Some v | _ -> None) CliDefaults.TopP |> inUnit "top-p"
          MaxNew = get r (function GrpoArg.Max_New v -> Some v | _ -> None) CliDefaults.MaxNew |> atLeast 1 "max-new"
          RewardMode =
            get r (function GrpoArg.Reward_Mode v -> Some v | _ -> None) CliDefaults.RewardMode |> oneOf "reward-mode" CliDefaults.RewardModes
          FormatWeight = get r (function GrpoArg.Format_Weight v -> Some v | _ -> None) CliDefaults.FormatWeight |> nonNegativeF "format-weight"
          ClassWeight = get r (function GrpoArg.Class_Weight v -> Some v | _ -> None) CliDefaults.ClassWeight |> nonNegativeF "class-weight"
          Scale = get r (function GrpoArg.Scale v -> Some v | _ -> None) CliDefaults.Scale |> oneOf "scale" CliDefaults.Scales
          Loss = get r (function GrpoArg.Loss v -> Some v | _ -> None) CliDefaults.Loss |> oneOf "loss" CliDefaults.Losses
          Kl = get r (function GrpoArg.Kl v -> Some v | _ -> None) CliDefaults.Kl |> nonNegativeF "kl"
          ClipGrad = get r (function GrpoArg.Clip_Grad v -> Some v | _ -> None) CliDefaults.ClipGrad |> nonNegativeF "clip-grad"
          Domains = tryGet r (function GrpoArg.Domains v -> Some v | _ -> None) |> domainsOr "domains"
          EvalEvery = get r (function GrpoArg.Eval_Every v -> Some v | _ -> None) CliDefaults.GrpoEvalEvery |> atLeast 0 "eval-every"
          LogEvery = get r (function GrpoArg.Log_Every v -> Some v | _ -> None) CliDefaults.LogEvery |> atLeast 1 "log-every"
          SaveEvery = get r (function GrpoArg.Save_Every v -> Some v | _ -> None) CliDefaults.SaveEvery |> atLeast 0 "save-every"
          Resume = has r (function GrpoArg.Resume -> true | _ -> false)
          Force =
            let force = has r (function GrpoArg.Force -> true | _ -> false)
            if force && has r (function GrpoArg.Resume -> true | _ -> false) then invalid "--resume and --force exclude each other"
            force
          Common = c }

    let private eval c (pr: ParseResults<EvalArg>) : EvalArgs =
        let r = newestFirst pr
        { Model = get r (function EvalArg.Model v -> Some v | _ -> None) CliDefaults.Model |> path "model"
          Data = get r (function EvalArg.Data v -> Some v | _ -> None) CliDefaults.Manifest |> path "data"
          Val = get r (function EvalArg.Val v -> Some v | _ -> None) ""
          Root = get r (function EvalArg.Root v -> Some v | _ -> None) ""
          Out = get r (function EvalArg.Out v -> Some v | _ -> None) CliDefaults.EvalOut |> path "out"
          Drop = get r (function EvalArg.Drop v -> Some v | _ -> None) CliDefaults.Drop |> drop "drop"
          Domains = tryGet r (function EvalArg.Domains v -> Some v | _ -> None) |> domainsOr "domains"
          ValDomains = tryGet r (function EvalArg.Val_Domains v -> Some v | _ -> None) |> domainsOr "val-domains"
          Batch = get r (function EvalArg.Batch v -> Some v | _ -> None) CliDefaults.EvalBatch |> atLeast 1 "batch"
          MaxNew = get r (function EvalArg.Max_New v -> Some v | _ -> None) CliDefaults.MaxNew |> atLeast 1 "max-new"
          Protocol = (get r (function EvalArg.Protocol v -> Some v | _ -> None) "").Trim()
          ChainsPerAttack = get r (function EvalArg.Chains_Per_Attack v -> Some v | _ -> None) CliDefaults.ChainsPerAttack |> atLeast 0 "chains-per-attack"
          Common = c }

    let private predict c (pr: ParseResults<PredictArg>) : PredictArgs =
        let r = newestFirst pr
        let a: PredictArgs =
            { Model = get r (function PredictArg.Model v -> Some v | _ -> None) CliDefaults.Model |> path "model"
              Rgb = get r (function PredictArg.Rgb v -> Some v | _ -> None) ""
              Depth = get r (function PredictArg.Depth v -> Some v | _ -> None) ""
              Ir = get r (function PredictArg.Ir v -> Some v | _ -> None) ""
              List = get r (function PredictArg.List v -> Some v | _ -> None) ""
              Root = get r (function PredictArg.Root v -> Some v | _ -> None) ""
              Out = get r (function PredictArg.Out v -> Some v | _ -> None) ""
              Json = has r (function PredictArg.Json -> true | _ -> false)
              MaxNew = get r (function PredictArg.Max_New v -> Some v | _ -> None) CliDefaults.MaxNew |> atLeast 1 "max-new"
              Threshold =
                match tryGet r (function PredictArg.Threshold v -> Some v | _ -> None) with
                | Some t -> threshold t
                | None -> CliDefaults.Threshold
              Common = c }
        let single = a.Rgb <> "" || a.Depth <> "" || a.Ir <> ""
        if a.List <> "" && single then invalid "--list cannot be combined with --rgb/--depth/--ir"
        if a.List = "" && not single then invalid "predict needs --rgb (and optionally --depth, --ir) or --list"
        a

    let private metrics c (pr: ParseResults<MetricsArg>) : MetricsArgs =
        let r = newestFirst pr
        { Scores = get r (function MetricsArg.Scores v -> Some v | _ -> None) "" |> path "scores"
          ValScores = get r (function MetricsArg.Val_Scores v -> Some v | _ -> None) ""
          Out = get r (function MetricsArg.Out v -> Some v | _ -> None) ""
          Common = c }

    let private score c (pr: ParseResults<ScoreArg>) : ScoreArgs =
        let r = newestFirst pr
        let completions = (get r (function ScoreArg.Completions v -> Some v | _ -> None) "").Trim()
        let byModel = completions = ""
        { Model = get r (function ScoreArg.Model v -> Some v | _ -> None) (if byModel then CliDefaults.Model else "") |> (if byModel then path "model" else id)
          Data = get r (function ScoreArg.Data v -> Some v | _ -> None) (if byModel then CliDefaults.Manifest else "") |> (if byModel then path "data" else id)
          Root = get r (function ScoreArg.Root v -> Some v | _ -> None) ""
          Out = get r (function ScoreArg.Out v -> Some v | _ -> None) (if byModel then CliDefaults.ScoresOut else CliDefaults.CompletionScoresOut) |> path "out"
          Drop = get r (function ScoreArg.Drop v -> Some v | _ -> None) CliDefaults.Drop |> drop "drop"
          Domains = tryGet r (function ScoreArg.Domains v -> Some v | _ -> None) |> domainsOr "domains"
          Batch = get r (function ScoreArg.Batch v -> Some v | _ -> None) CliDefaults.EvalBatch |> atLeast 1 "batch"
          MaxNew = get r (function ScoreArg.Max_New v -> Some v | _ -> None) CliDefaults.MaxNew |> atLeast 1 "max-new"
          Completions = completions
          RewardMode =
            get r (function ScoreArg.Reward_Mode v -> Some v | _ -> None) CliDefaults.RewardMode |> oneOf "reward-mode" CliDefaults.RewardModes
          Common = c }

    let private export c (pr: ParseResults<ExportArg>) : ExportArgs =
        let r = newestFirst pr
        let format =
            match tryGet r (function ExportArg.Format v -> Some v | _ -> None) with
            | Some v when List.contains (v.Trim().ToLowerInvariant()) [ "weights"; "torchscript"; "onnx" ] ->
                invalid "--format %s is not supported: use safetensors (weights + config.json + tokenizer.json, loadable from PyTorch)" (v.Trim())
            | Some v -> oneOf "format" CliDefaults.ExportFormats v
            | None -> CliDefaults.ExportFormat
        let kind = get r (function ExportArg.Kind v -> Some v | _ -> None) CliDefaults.ExportKind |> oneOf "kind" CliDefaults.ExportKinds
        let weights = format = "safetensors"
        { Model = get r (function ExportArg.Model v -> Some v | _ -> None) CliDefaults.Model |> path "model"
          Out = get r (function ExportArg.Out v -> Some v | _ -> None) CliDefaults.ExportOut |> path "out"
          Format = format
          Kind = kind
          Data =
            get r (function ExportArg.Data v -> Some v | _ -> None) (if weights then "" elif kind = "sft" then CliDefaults.Chains else CliDefaults.Manifest)
            |> (if weights then id else path "data")
          Root = get r (function ExportArg.Root v -> Some v | _ -> None) ""
          Common = c }

    let private pipeline c (pr: ParseResults<PipelineArg>) : PipelineArgs =
        let r = newestFirst pr
        { Preset = get r (function PipelineArg.Preset v -> Some v | _ -> None) CliDefaults.PipelinePreset |> oneOf "preset" CliDefaults.PipelinePresets
          Out = get r (function PipelineArg.Out v -> Some v | _ -> None) CliDefaults.PipelineOut |> path "out"
          Holdout =
            (match get r (function PipelineArg.Holdout v -> Some v | _ -> None) CliDefaults.Holdout |> domainList "holdout" with
             | [ h ] -> h
             | _ -> invalid "--holdout must be one domain name")
          SftSteps = get r (function PipelineArg.Sft_Steps v -> Some v | _ -> None) 0 |> atLeast 0 "sft-steps"
          GrpoSteps = get r (function PipelineArg.Grpo_Steps v -> Some v | _ -> None) 0 |> atLeast 0 "grpo-steps"
          PerDomain = get r (function PipelineArg.Per_Domain v -> Some v | _ -> None) 0 |> atLeast 0 "per-domain"
          Model =
            match tryGet r (function PipelineArg.Model v -> Some v | _ -> None) with
            | Some m -> oneOf "model" CliDefaults.Presets m
            | None -> ""
          Pretrained =
            let scratch = has r (function PipelineArg.From_Scratch -> true | _ -> false)
            match tryGet r (function PipelineArg.Pretrained v -> Some v | _ -> None) with
            | Some _ when scratch -> invalid "--pretrained and --from-scratch exclude each other"
            | Some v -> path "pretrained" v
            | None -> ""
          FromScratch = has r (function PipelineArg.From_Scratch -> true | _ -> false)
          Common = c }

    let private split c (pr: ParseResults<SplitArg>) : SplitArgs =
        let r = newestFirst pr
        let protocol = (get r (function SplitArg.Protocol v -> Some v | _ -> None) "").Trim()
        match Protocols.tryFind protocol with
        | None -> invalid "--protocol: unknown protocol '%s' (known: %s)" protocol (Protocols.all |> List.map (fun p -> p.Name) |> String.concat ", ")
        | Some p when not p.Drop.IsEmpty ->
            invalid "--protocol %s drops modalities at test: split with %s and evaluate with --drop or --protocol %s" p.Name (p.Name.Substring(0, 4).Replace("p2", "p1")) p.Name
        | Some _ -> ()
        let fraction = get r (function SplitArg.Val_Fraction v -> Some v | _ -> None) CliDefaults.ValFraction
        if not (fraction > 0.0 && fraction < 1.0) then invalid "--val-fraction must be in (0, 1) (got %g)" fraction
        { Data = get r (function SplitArg.Data v -> Some v | _ -> None) CliDefaults.Manifest |> path "data"
          Root = get r (function SplitArg.Root v -> Some v | _ -> None) ""
          Protocol = protocol
          Out = get r (function SplitArg.Out v -> Some v | _ -> None) CliDefaults.SplitOut |> path "out"
          ValFraction = fraction
          Common = c }

    let private bench c (pr: ParseResults<BenchArg>) : BenchArgs =
        let r = newestFirst pr
        { What =
            get r (function BenchArg.What v -> Some v | _ -> None) CliDefaults.BenchWhat
            |> fun v -> v.Split(',') |> Array.map (fun w -> oneOf "what" CliDefaults.BenchTargets (w.Trim())) |> String.concat ","
          Out = get r (function BenchArg.Out v -> Some v | _ -> None) CliDefaults.BenchOut |> path "out"
          Repeat = get r (function BenchArg.Repeat v -> Some v | _ -> None) CliDefaults.BenchRepeat |> atLeast 1 "repeat"
          Preset = get r (function BenchArg.Preset v -> Some v | _ -> None) CliDefaults.BenchPreset |> oneOf "preset" CliDefaults.Presets
          Model = tryGet r (function BenchArg.Model v -> Some v | _ -> None) |> Option.map (path "model") |> Option.defaultValue ""
          Common = c }

    let private toCommand (pr: ParseResults<TopArg>) =
        if has (newestFirst pr) (function TopArg.Version -> true | _ -> false) then Ok Command.Version
        else
            let c = commonOf pr
            match pr.TryGetSubCommand() with
            | Some(TopArg.Synth r) -> Ok(Command.Synth(synth c r))
            | Some(TopArg.Inspect r) -> Ok(Command.Inspect(inspect c r))
            | Some(TopArg.Annotate r) -> Ok(Command.Annotate(annotate c r))
            | Some(TopArg.Augment r) -> Ok(Command.Augment(augment c r))
            | Some(TopArg.Sft r) -> Ok(Command.Sft(sft c r))
            | Some(TopArg.Pretrain r) -> Ok(Command.Pretrain(pretrain c r))
            | Some(TopArg.Grpo r) -> Ok(Command.Grpo(grpo c r))
            | Some(TopArg.Eval r) -> Ok(Command.Eval(eval c r))
            | Some(TopArg.Predict r) -> Ok(Command.Predict(predict c r))
            | Some(TopArg.Metrics r) -> Ok(Command.Metrics(metrics c r))
            | Some(TopArg.Score r) -> Ok(Command.Score(score c r))
            | Some(TopArg.Export r) -> Ok(Command.Export(export c r))
            | Some(TopArg.Pipeline r) -> Ok(Command.Pipeline(pipeline c r))
            | Some(TopArg.Split r) -> Ok(Command.Split(split c r))
            | Some(TopArg.Bench r) -> Ok(Command.Bench(bench c r))
            | _ ->
                Error
                    { Message = "no subcommand given; use one of: " + String.Join(", ", subcommands)
                      IsHelp = false
                      Subcommand = "" }

    /// `--name=value` -> `--name value` (Argu wants them apart); nulls become "".
    let private normalise (argv: string[]) =
        argv
        |> Array.collect (fun a ->
            let a = if isNull a then "" else a
            let eq = a.IndexOf '='
            if a.StartsWith "--" && eq > 2 then [| a.Substring(0, eq); a.Substring(eq + 1) |] else [| a |])

    /// Argu's error text is "ERROR: <what>\nUSAGE: ..."; keep the <what>.
    let private firstLine (message: string) =
        let lines = message.Split('\n') |> Array.map (fun l -> l.TrimEnd('\r'))
        let body = lines |> Array.takeWhile (fun l -> not (l.StartsWith "USAGE:")) |> Array.filter (fun l -> l.Trim() <> "")
        let text = if body.Length = 0 then message.Trim() else String.Join(" ", body)
        if text.StartsWith "ERROR: " then text.Substring 7 else text

    /// Parses a `pafas` command line. Never throws on any input: help (`--help`, `-h`, `help [cmd]`) comes back as
    /// Error with IsHelp = true, and a bad line as Error naming the option or value.
    let parse (argv: string[]) : Result<Command, CliError> =
        let argv = if isNull argv then [||] else normalise argv
        // `pafas help` and `pafas help <cmd>` as aliases of --help.
        let argv =
            match argv with
            | [| "help" |] -> [| "--help" |]
            | [| "help"; cmd |] when List.contains cmd subcommands -> [| cmd; "--help" |]
            | _ -> argv
        let sub = argv |> Array.tryFind (fun a -> List.contains a subcommands) |> Option.defaultValue ""
        let fail msg = Error { Message = msg; IsHelp = false; Subcommand = sub }
        try
            match argv with
            | [||] -> fail ("no subcommand given; use one of: " + String.Join(", ", subcommands))
            | _ when not (argv.[0].StartsWith "-") && not (List.contains argv.[0] subcommands) ->
                let name = if argv.[0] = "help" && argv.Length > 1 then argv.[1] else argv.[0]
                fail (sprintf "unknown subcommand '%s'; use one of: %s" name (String.Join(", ", subcommands)))
            | _ ->
                let top = parser.Value.ParseCommandLine(argv, raiseOnUsage = true)
                toCommand top
        with
        | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
            Error { Message = e.Message.TrimEnd(); IsHelp = true; Subcommand = sub }
        | :? ArguParseException as e -> fail (firstLine e.Message)
        | Invalid msg -> fail msg
