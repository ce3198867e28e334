using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Cli;

namespace PaFas.Host.Commands;

/// <summary>Options of <c>pafas inspect</c>: counts by domain, label, attack and modality; file checks.</summary>
public sealed record InspectOptions : CommonOptions
{
    [Flag("data", "manifest: JSONL or list file"), NotEmpty]
    public string Data { get; init; } = DefaultPaths.Manifest;

    [Flag("root", "folder that relative image paths are resolved against (default: the manifest's folder)")]
    public string Root { get; init; } = "";

    [Flag("limit", "read at most this many samples; 0 = all"), AtLeast(0)]
    public int Limit { get; init; }

    [Flag("no-check-files", "do not check that every image exists and decodes")]
    public bool NoCheckFiles { get; init; }

    [Flag("skip-bad", "skip malformed lines and report them instead of stopping at the first")]
    public bool SkipBad { get; init; }

    [Flag("out", "write the samples read as a JSONL manifest (with domain and attack) for the other commands")]
    public string Out { get; init; } = "";

    [Flag("domain", "list files: the domain of every sample")]
    public string Domain { get; init; } = "";

    [Flag("domain-pattern", "list files: a regex over the first path; group 'domain' (or 1) is the domain"), Regex]
    public string DomainPattern { get; init; } = "";

    [Flag("attack", "list files: the attack of every spoof line")]
    public string Attack { get; init; } = "";

    [Flag("attack-pattern", "list files: a regex over the first path; group 'attack' (or 1) is the attack"), Regex]
    public string AttackPattern { get; init; } = "";
}

/// <summary>Options of <c>pafas annotate</c>: per-modality cue annotations computed from the images.</summary>
public sealed record AnnotateOptions : CommonOptions
{
    [Flag("data", "manifest: JSONL or list file"), NotEmpty]
    public string Data { get; init; } = DefaultPaths.Manifest;

    [Flag("root", "folder that relative image paths are resolved against (default: the manifest's folder)")]
    public string Root { get; init; } = "";

    [Flag("out", "output annotations JSONL"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Annotations;

    [Flag("report", "report agreement with the manifest's ground-truth cues per cue and per class, and cue rates per class")]
    public bool Report { get; init; }

    [Flag("skip-bad", "skip malformed lines and report them instead of stopping at the first")]
    public bool SkipBad { get; init; }

    [Flag("calibrate", "none (the synthetic world's thresholds) | domain (learn them per domain from the labels) | pooled (from all samples)",
        Value = "none|domain|pooled"),
     OneOf("none", "domain", "pooled"), Lowercase]
    public string Calibrate { get; init; } = "none";

    [Flag("min-per-class", "labelled samples needed on each side of a calibrated decision"), AtLeast(1)]
    public int MinPerClass { get; init; } = 5;

    [Flag("sheet", "write a PNG contact sheet of a few annotated faces per class (RGB, depth, IR, cues)")]
    public string Sheet { get; init; } = "";

    [Flag("thresholds", "apply the thresholds of an earlier --calibrate run (its .calibration.json) instead of learning them")]
    public string Thresholds { get; init; } = "";

    public override IEnumerable<string> Rules()
    {
        if (Thresholds != "" && Calibrate != "none")
            yield return "--thresholds applies an earlier calibration; --calibrate learns a new one: give one of them";
    }
}

/// <summary>Options of <c>pafas predict</c>: verdict, taxonomy path, live score and reasoning for one face or a list.</summary>
public sealed record PredictOptions : CommonOptions
{
    [Flag("model", "run or checkpoint folder"), NotEmpty]
    public string Model { get; init; } = DefaultPaths.Model;

    [Flag("rgb", "RGB image of one face")]
    public string Rgb { get; init; } = "";

    [Flag("depth", "depth image of the face (absent if not given)")]
    public string Depth { get; init; } = "";

    [Flag("ir", "IR image of the face (absent if not given)")]
    public string Ir { get; init; } = "";

    [Flag("list", "manifest of many faces (JSONL or list file); output as JSON lines")]
    public string List { get; init; } = "";

    [Flag("root", "folder that relative image paths are resolved against")]
    public string Root { get; init; } = "";

    [Flag("out", "write JSON lines to this file (default: stdout)")]
    public string Out { get; init; } = "";

    [Flag("json", "print JSON lines instead of text")]
    public bool Json { get; init; }

    [Flag("max-new", "maximum completion tokens"), AtLeast(1)]
    public int MaxNew { get; init; } = 256;

    [Flag("threshold", "live-score decision threshold in [0, 1]", DefaultText = "the model's validation threshold"), Range(0, 1)]
    public double? Threshold { get; init; }

    [Flag("threshold-from", "take the threshold from this eval output folder or threshold.json", DefaultText = "the model folder's threshold.json, else 0.5")]
    public string ThresholdFrom { get; init; } = "";

    public override IEnumerable<string> Rules()
    {
        bool single = Rgb != "" || Depth != "" || Ir != "";
        if (List != "" && single) yield return "--list cannot be combined with --rgb/--depth/--ir";
        if (List == "" && !single) yield return "predict needs --rgb (and optionally --depth, --ir) or --list";
        if (ThresholdFrom != "" && Threshold != null) yield return "--threshold and --threshold-from exclude each other";
    }
}

/// <summary>Options of <c>pafas metrics</c>: FAS metrics from any system's scores.</summary>
public sealed record MetricsOptions : CommonOptions
{
    [Flag("scores", "JSONL or CSV with score,label[,attack[,domain]]; higher score = more live (required)"), NotEmpty]
    public string Scores { get; init; } = "";

    [Flag("val-scores", "validation scores in the same format: the threshold is their EER threshold")]
    public string ValScores { get; init; } = "";

    [Flag("out", "write metrics.json and report.md here (default: print only)")]
    public string Out { get; init; } = "";
}

/// <summary>Options of <c>pafas score</c>: live scores of a manifest's samples, or (with --completions) the
/// rewards and FAS metrics of any model's completions.</summary>
public sealed record ScoreOptions : CommonOptions
{
    [Flag("model", "run or checkpoint folder (not used with --completions)", DefaultText = DefaultPaths.Model)]
    public string Model { get; init; } = "";

    [Flag("data", "manifest (optional with --completions: the truth labels)", DefaultText = DefaultPaths.Manifest + "; none with --completions")]
    public string Data { get; init; } = "";

    [Flag("root", "folder that relative image paths are resolved against")]
    public string Root { get; init; } = "";

    [Flag("out", "scores file, JSONL (id, score, label, attack, domain) or CSV when it ends in .csv; readable by pafas metrics; with --completions the report folder",
        DefaultText = DefaultPaths.Scores + "; " + DefaultPaths.CompletionScores + " with --completions")]
    public string Out { get; init; } = "";

    /// <summary>The model folder: <see cref="Model"/> or the default.</summary>
    public string ModelDir => Model != "" ? Model : DefaultPaths.Model;
    /// <summary>The manifest: <see cref="Data"/>, or the default when scoring with a model ("" with --completions).</summary>
    public string DataFile => Data != "" ? Data : Completions == "" ? DefaultPaths.Manifest : "";
    /// <summary>The output: <see cref="Out"/> or the default of the mode.</summary>
    public string OutPath => Out != "" ? Out : Completions == "" ? DefaultPaths.Scores : DefaultPaths.CompletionScores;

    [Flag("drop", "modalities to treat as missing", Value = "none|depth|ir|depth,ir")]
    public IReadOnlyList<Modality> Drop { get; init; } = Array.Empty<Modality>();

    [Flag("domains", "comma-separated domains to keep (default: all)")]
    public IReadOnlyList<string> Domains { get; init; } = Array.Empty<string>();

    [Flag("batch", "faces per forward pass"), AtLeast(1)]
    public int Batch { get; init; } = 32;

    [Flag("max-new", "maximum completion tokens"), AtLeast(1)]
    public int MaxNew { get; init; } = 256;

    [Flag("completions", "JSONL of any model's completions (id/sample_id + text/completion/response) to score instead of a model")]
    public string Completions { get; init; } = "";

    [Flag("reward-mode", "classification reward of --completions")]
    public ClassMode RewardMode { get; init; } = ClassMode.ExactLeaf;
}

/// <summary>Options of <c>pafas export</c>: training data for other trainers, or the model's weights.</summary>
public sealed record ExportOptions : CommonOptions
{
    [Flag("model", "run or checkpoint folder (--format safetensors)")]
    public string Model { get; init; } = DefaultPaths.Model;

    [Flag("out", "output folder (safetensors) or JSONL file (data formats; a folder gets <format>-<kind>.jsonl)"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Export;

    [Flag("format", "safetensors (weights + config.json + tokenizer.json) or a training-data format"), OneOf("safetensors", "trl", "llava", "sharegpt", "vlm-r1"), Lowercase]
    public string Format { get; init; } = "safetensors";

    [Flag("kind", "data formats: sft (chains of pafas augment) | grpo (manifest prompts + ground truth)"), OneOf("sft", "grpo"), Lowercase]
    public string Kind { get; init; } = "sft";

    [Flag("data", "chains JSONL (sft) or manifest (grpo) of the data formats", DefaultText = DefaultPaths.Chains + " (sft), " + DefaultPaths.Manifest + " (grpo)")]
    public string Data { get; init; } = "";

    [Flag("root", "folder that relative image paths are resolved against")]
    public string Root { get; init; } = "";

    /// <summary>The data file of a data format: <see cref="Data"/>, or the default of <see cref="Kind"/>.</summary>
    public string DataFile => Data != "" ? Data : Kind == "sft" ? DefaultPaths.Chains : DefaultPaths.Manifest;

    public override IEnumerable<string> Rules()
    {
        if (Format == "safetensors" && Model.Trim() == "") yield return "--model needs a value";
    }
}

/// <summary>Options of <c>pafas split</c>: a protocol's train / validation / test manifests from one manifest, or a
/// split by any domain names (<c>--sources</c> / <c>--targets</c>: a real data set's sessions or sensors).</summary>
public sealed record SplitOptions : CommonOptions
{
    [Flag("data", "manifest with every domain"), NotEmpty]
    public string Data { get; init; } = DefaultPaths.Manifest;

    [Flag("root", "folder that relative image paths are resolved against")]
    public string Root { get; init; } = "";

    [Flag("protocol", "p1-C|P|S|W, p3-PS|CW, or the arrow form CPS->W (Protocol 2 = Protocol 1 splits + eval --drop); or --sources and --targets")]
    public Protocol? Protocol { get; init; }

    [Flag("sources", "instead of --protocol: comma-separated source domains (any names; with --targets)")]
    public IReadOnlyList<string> Sources { get; init; } = Array.Empty<string>();

    [Flag("targets", "instead of --protocol: comma-separated target (test) domains (with --sources)")]
    public IReadOnlyList<string> Targets { get; init; } = Array.Empty<string>();

    [Flag("out", "folder for train.jsonl, val.jsonl, test.jsonl, split.json"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Splits;

    [Flag("val-fraction", "fraction of the source samples kept for validation (threshold, best checkpoint)"), Range(0, 1, false, false)]
    public double ValFraction { get; init; } = 0.15;

    /// <summary>Whether the split is by <see cref="Sources"/> and <see cref="Targets"/> rather than a protocol.</summary>
    public bool IsCustom => Sources.Count > 0 || Targets.Count > 0;

    /// <summary>The split's protocol: <see cref="Protocol"/>, or one named by the arrow form of the sources and
    /// targets (valid options only).</summary>
    public Protocol Split => IsCustom
        ? new Protocol(string.Join(",", Sources) + "->" + string.Join(",", Targets), ListModule.OfSeq(Sources), ListModule.OfSeq(Targets),
            FSharpList<Modality>.Empty, "custom split by domain")
        : Protocol ?? throw new InvalidOperationException("split options without a protocol (Validate first)");

    public override IEnumerable<string> Rules()
    {
        if (IsCustom && Protocol != null) yield return "give either --protocol or --sources and --targets, not both";
        else if (IsCustom && (Sources.Count == 0 || Targets.Count == 0)) yield return "--sources and --targets go together";
        else if (!IsCustom && Protocol == null) yield return "split needs --protocol (or --sources and --targets)";
        else if (Protocol != null && !Protocol.Drop.IsEmpty)
            yield return $"--protocol {Protocol.Name} drops modalities at test: split with the Protocol 1 protocol of the same domains and evaluate with --protocol {Protocol.Name}";
        var both = Sources.Where(s => Targets.Contains(s, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (both.Length > 0) yield return $"domain {string.Join(", ", both)} is both a source and a target";
    }
}

/// <summary>Options of <c>pafas bench</c>: throughput of the synthetic world, augmentation and the model.</summary>
public sealed record BenchOptions : CommonOptions
{
    /// <summary>The targets of --what, in the order "all" runs them (peak early: its baseline is then closest to a
    /// fresh process).</summary>
    public static readonly string[] Targets = { "synth", "augment", "model", "memory", "peak", "sft", "decode", "grpo", "predict" };

    [Flag("what", "comma list of synth, augment, model, memory, peak, sft, decode, grpo, predict, or all"), Lowercase]
    public IReadOnlyList<string> What { get; init; } = new[] { "all" };

    [Flag("model-size", "model size of sft, decode, grpo, predict, peak"), ModelSize, Lowercase]
    public string ModelSize { get; init; } = "small";

    [Flag("model", "checkpoint or run folder for decode and predict (default: fresh weights of --model-size)")]
    public string Model { get; init; } = "";

    [Flag("out", "output folder for bench.json and bench.md"), NotEmpty]
    public string Out { get; init; } = DefaultPaths.Bench;

    [Flag("repeat", "repetitions per measurement"), AtLeast(1)]
    public int Repeat { get; init; } = 3;

    /// <summary>The targets to run, "all" expanded.</summary>
    public IReadOnlyList<string> Expanded => What.SelectMany(w => w == "all" ? Targets : new[] { w }).Distinct().ToArray();

    public override IEnumerable<string> Rules()
    {
        foreach (var w in What.Where(w => w != "all" && !Targets.Contains(w)))
            yield return $"--what must name {string.Join(", ", Targets)} or all (got '{w}')";
    }
}
