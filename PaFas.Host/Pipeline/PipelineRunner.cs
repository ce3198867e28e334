using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Augmentation;
using PaFas.Host.Data;
using PaFas.Host.Evaluation;
using PaFas.Host.IO;
using PaFas.Host.Training;

namespace PaFas.Host.Pipeline;

/// <summary>The settings of one end-to-end run. <see cref="Demo"/> fits in minutes on a 2-core CPU;
/// <see cref="Paper"/> uses the paper's settings (800 labelled samples, N = 50 paths, 500 SFT + 500 GRPO steps).</summary>
public sealed record PipelinePreset
{
    public required string Name { get; init; }
    public int PerDomain { get; init; }
    public int ImageSize { get; init; } = 64;
    public string Model { get; init; } = "small";
    /// <summary>SFT's initial weights: a pretrained pack, checkpoint or run folder; "" = fresh weights of
    /// <see cref="Model"/> (from scratch). <c>pafas pipeline</c> sets the shipped pack of the model preset.</summary>
    public string Init { get; init; } = "";
    public int Labelled { get; init; } = 800;
    public int Paths { get; init; } = 50;
    public double Alpha { get; init; } = 2.0;
    public string Shuffle { get; init; } = "answer";
    /// <summary>Fraction of the source domains' samples kept for validation (threshold, best checkpoint).</summary>
    public double ValFraction { get; init; } = 0.15;
    public int SftSteps { get; init; }
    public double SftLr { get; init; }
    public int SftBatch { get; init; } = 16;
    public int SftWarmup { get; init; }
    public string SftSchedule { get; init; } = "cosine";
    public int GrpoSteps { get; init; }
    public double GrpoLr { get; init; }
    public int GrpoPrompts { get; init; } = 4;
    public int GrpoGroup { get; init; } = 8;
    public double Temperature { get; init; } = 1.0;
    /// <summary>Classification reward of GRPO: exact | binary | hierarchical (prefix credit).</summary>
    public string RewardMode { get; init; } = "hierarchical";
    public int MaxNewTokens { get; init; } = 200;
    /// <summary>Validation (and best/) every K steps of SFT and GRPO; 0 = only at the end.</summary>
    public int EvalEvery { get; init; } = 100;
    /// <summary>Validation (and best/) every K GRPO steps; the held-out evaluation uses GRPO's best/ (chosen by
    /// validation live-score AUC on the source domains, never on the held-out domain).</summary>
    public int GrpoEvalEvery { get; init; } = 100;
    public int ValSamples { get; init; } = 128;

    public static PipelinePreset Demo => new()
    {
        Name = "demo", PerDomain = 160, Labelled = 400, Paths = 10, SftSteps = 300, SftLr = 1e-3, SftWarmup = 30,
        GrpoSteps = 60, GrpoLr = 5e-5, GrpoPrompts = 4, GrpoGroup = 8, EvalEvery = 0, GrpoEvalEvery = 20, ValSamples = 64,
    };

    public static PipelinePreset Paper => new()
    {
        Name = "paper", PerDomain = 400, Labelled = 800, Paths = 50, SftSteps = 500, SftLr = 1e-3, SftWarmup = 25,
        SftSchedule = "constant", GrpoSteps = 500, GrpoLr = 5e-5, GrpoPrompts = 4, GrpoGroup = 8, EvalEvery = 100, GrpoEvalEvery = 100, ValSamples = 256,
    };

    public static PipelinePreset Named(string name) => name.Trim().ToLowerInvariant() switch
    {
        "demo" => Demo,
        "paper" => Paper,
        _ => throw new ArgumentException($"--preset must be demo or paper, got '{name}'"),
    };
}

/// <summary>What <see cref="PipelineRunner.Run"/> produced.</summary>
public sealed record PipelineResult(string OutDir, string Report, FasReport Test, QualitySummary Quality, double Seconds,
    IReadOnlyList<(string Stage, double Seconds)> Stages, IReadOnlyList<EvalRow> Samples);

/// <summary>The main job: synthetic world -> cue annotation -> source/validation/held-out split -> PNRPS chains
/// with answer shuffling -> SFT -> GRPO -> evaluation on the held-out domain (threshold from the sources'
/// validation split) -> pipeline.md. Every stage writes into its own folder under the output folder.</summary>
public static class PipelineRunner
{
    public static PipelineResult Run(PipelinePreset p, string outDir, string holdout, int seed, int threads, string device,
        ILogger log, CancellationToken cancel = default)
    {
        var total = Stopwatch.StartNew();
        var stages = new List<(string, double)>();
        T Stage<T>(string name, Func<T> f)
        {
            cancel.ThrowIfCancellationRequested();
            log.LogInformation("pipeline [{Stage}] ...", name);
            var sw = Stopwatch.StartNew();
            var r = f();
            stages.Add((name, sw.Elapsed.TotalSeconds));
            log.LogInformation("pipeline [{Stage}] done in {S:F1} s", name, sw.Elapsed.TotalSeconds);
            return r;
        }
        Directory.CreateDirectory(outDir);
        var domains = SyntheticWorld.DefaultDomains.Select(d => d.Name).ToList();
        if (!domains.Contains(holdout, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"--holdout must be one of {string.Join(", ", domains)}, got '{holdout}'");
        holdout = domains.First(d => d.Equals(holdout, StringComparison.OrdinalIgnoreCase));
        var sources = domains.Where(d => d != holdout).ToList();
        log.LogInformation("pipeline: preset {Preset}, sources {Sources} -> held-out {Holdout}, seed {Seed}, out {Out}",
            p.Name, string.Join("", sources), holdout, seed, outDir);

        var world = Stage("synth", () => SyntheticWorld.Generate(new SynthOptions
        {
            OutDir = Path.Combine(outDir, "world"), PerDomain = p.PerDomain, Size = p.ImageSize, Seed = seed, Threads = threads,
        }));
        var all = Manifest.Load(world.ManifestPath);

        var annPath = Path.Combine(outDir, "annotations.jsonl");
        Stage("annotate", () =>
        {
            var ann = Annotator.AnnotateSamples(all, p.ImageSize, threads);
            Annotator.WriteJsonl(annPath, ann);
            var rep = Annotator.Agreement(all.Where(s => s.Cues != null).ToList(), ann.ToDictionary(x => x.Id, x => x.Cues));
            AtomicFile.WriteAllText(Path.Combine(outDir, "annotations.agreement.txt"), rep.ToText());
            log.LogInformation("annotate: macro F1 {F1:F3} against the world's ground truth, exact cue sets {Exact:P1}", rep.MacroF1, rep.ExactSetRate);
            return 0;
        });

        // Split: the held-out domain is the test set; the sources are split into train and validation by a seeded shuffle.
        var splitDir = Path.Combine(outDir, "splits");
        var (train, val, test) = ProtocolSplit.Make(all, "p1-" + holdout, sources, new[] { holdout }, p.ValFraction, seed, world.ManifestPath);
        var split = ProtocolSplit.Write(splitDir, "p1-" + holdout, sources, new[] { holdout }, train, val, test, world.ManifestPath, p.ValFraction, seed);
        string trainPath = split.TrainPath, valPath = split.ValPath, testPath = split.TestPath;
        log.LogInformation("split: train {Train}, validation {Val} (sources {Sources}), test {Test} (held-out {Holdout})",
            train.Count, val.Count, string.Join("", sources), test.Count, holdout);

        var chains = Stage("augment", () => Augmenter.Run(new AugmentOptions
        {
            Data = trainPath, Annotations = annPath, Out = Path.Combine(outDir, "chains.jsonl"), Paths = p.Paths,
            Shuffle = p.Shuffle, Labelled = p.Labelled, Alpha = p.Alpha, Seed = seed, Threads = threads,
        }, GrammarStore.Default));
        log.LogInformation("augment: {Chains} chains from {Samples} labelled samples ({Shuffle} shuffle)", chains.Chains, chains.Samples, p.Shuffle);

        var sftDir = Path.Combine(outDir, "sft");
        var sft = Stage("sft", () => SftTrainer.Run(new SftOptions
        {
            Chains = chains.OutFile, Val = valPath, Out = sftDir, Preset = p.Model, Init = p.Init, Steps = p.SftSteps, Lr = p.SftLr,
            Batch = p.SftBatch, Warmup = p.SftWarmup, Schedule = p.SftSchedule, EvalEvery = p.EvalEvery, SaveEvery = p.EvalEvery,
            Seed = seed, Device = device, Threads = threads, Force = true, MaxNewTokens = p.MaxNewTokens, ValSamples = p.ValSamples,
            Cancel = cancel,
        }, log));
        log.LogInformation("sft: loss {First:F3} -> {Last:F3} in {Steps} steps", sft.FirstLoss, sft.LastLoss, sft.Step);

        var grpoDir = Path.Combine(outDir, "grpo");
        var grpo = Stage("grpo", () => GrpoTrainer.Run(new GrpoOptions
        {
            Init = sftDir, Data = trainPath, Val = valPath, Out = grpoDir, Steps = p.GrpoSteps, Lr = p.GrpoLr,
            Prompts = p.GrpoPrompts, Group = p.GrpoGroup, Temperature = p.Temperature, RewardMode = p.RewardMode, EvalEvery = p.GrpoEvalEvery,
            SaveEvery = p.GrpoEvalEvery, Seed = seed, Device = device, Threads = threads, Force = true, MaxNewTokens = p.MaxNewTokens,
            ValSamples = p.ValSamples, Cancel = cancel,
        }, log));
        log.LogInformation("grpo: mean reward {First:F3} -> {Last:F3}; tied (zero-std) groups {Tied:P1}", grpo.FirstReward, grpo.LastReward, grpo.MeanTiedFraction);

        var evalDir = Path.Combine(outDir, "eval");
        var ev = Stage("eval", () => EvalRunner.Run(new EvalOptions
        {
            Model = Directory.Exists(Path.Combine(grpoDir, "best")) ? Path.Combine(grpoDir, "best") : grpoDir, Data = testPath, Val = valPath, Out = evalDir, MaxNewTokens = p.MaxNewTokens, Device = device,
        }, log));
        // The run folder gets the threshold too, so FaceAntiSpoofer.Load(grpo/) uses the validation threshold.
        File.Copy(Path.Combine(evalDir, "threshold.json"), Path.Combine(grpoDir, "threshold.json"), overwrite: true);
        if (Directory.Exists(Path.Combine(grpoDir, "best")))
            File.Copy(Path.Combine(evalDir, "threshold.json"), Path.Combine(grpoDir, "best", "threshold.json"), overwrite: true);

        var report = Path.Combine(outDir, "pipeline.md");
        AtomicFile.WriteAllText(report, Summary(p, outDir, sources, holdout, seed, train.Count, val.Count, test.Count, chains, sft, grpo, ev, stages, total.Elapsed.TotalSeconds));
        return new PipelineResult(outDir, report, ev.Report, ev.Quality, total.Elapsed.TotalSeconds, stages, ev.Test);
    }

    private static string Summary(PipelinePreset p, string outDir, List<string> sources, string holdout, int seed, int nTrain, int nVal,
        int nTest, AugmentResult chains, SftResult sft, GrpoResult grpo, EvalResult ev, List<(string Stage, double Seconds)> stages, double seconds)
    {
        var r = ev.Report;
        var sb = new StringBuilder();
        sb.Append($"# PA-FAS pipeline ({p.Name} preset)\n\n");
        sb.Append($"Synthetic world, {string.Join("", sources)} -> {holdout} (train on the sources, test on the held-out domain), seed {seed}, ");
        sb.Append($"{seconds / 60:F1} min in all.\n\n");
        sb.Append("| stage | what | seconds |\n|---|---|---:|\n");
        string What(string s) => s switch
        {
            "synth" => $"{p.PerDomain} samples per domain, {p.ImageSize}x{p.ImageSize}",
            "annotate" => "cue annotation from the images (annotations.agreement.txt)",
            "augment" => $"{chains.Samples} labelled samples x up to {p.Paths} PNRPS paths = {chains.Chains} chains, {p.Shuffle} shuffle",
            "sft" => $"{sft.Step} steps ({p.Model} model, from {(p.Init == "" ? "scratch" : p.Init)}), loss {sft.FirstLoss:F3} -> {sft.LastLoss:F3}",
            "grpo" => $"{grpo.Step} steps, {p.GrpoPrompts} prompts x {p.GrpoGroup} completions, reward {grpo.FirstReward:F3} -> {grpo.LastReward:F3}, zero-std groups {100 * grpo.MeanTiedFraction:F1}%",
            "eval" => $"{nTest} held-out samples, threshold from {nVal} validation samples",
            _ => "",
        };
        foreach (var (s, t) in stages) sb.Append($"| {s} | {What(s)} | {t:F0} |\n");
        sb.Append($"\nSplits: train {nTrain}, validation {nVal} (from the sources), test {nTest} (domain {holdout}).\n\n");
        sb.Append($"## Held-out domain {holdout}\n\n");
        sb.Append($"| HTER | AUC | ACER | EER | format failures | faithfulness | consistency |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        sb.Append($"| {100 * r.Hter:F2}% | {100 * r.Auc:F2}% | {100 * r.Acer:F2}% | {100 * r.Eer:F2}% | {100 * ev.Quality.FormatFailureRate:F1}% | {100 * ev.Quality.Faithfulness:F1}% | {100 * ev.Quality.Consistency:F1}% |\n\n");
        sb.Append($"Chance is HTER 50%, AUC 50%. Full report: `{Path.Combine(outDir, "eval", "report.md")}`; model: `{Path.Combine(outDir, "grpo")}`.\n");
        return sb.ToString();
    }
}
