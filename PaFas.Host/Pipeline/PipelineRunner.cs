using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Augmentation;
using PaFas.Host.Cli;
using PaFas.Host.Commands;
using PaFas.Host.Data;
using PaFas.Host.Evaluation;
using PaFas.Host.IO;
using PaFas.Host.Model;
using PaFas.Host.Training;

namespace PaFas.Host.Pipeline;

/// <summary>What <see cref="PipelineRunner.Run"/> produced.</summary>
public sealed record PipelineResult(string OutDir, string Report, FasReport Test, ReasoningSummary Quality, double Seconds,
    IReadOnlyList<(string Stage, double Seconds)> Stages, IReadOnlyList<EvalRow> Samples);

/// <summary>The main job: synthetic world -> cue annotation -> source/validation/held-out split -> PNRPS chains
/// with answer shuffling -> SFT -> GRPO -> evaluation on the held-out domain (threshold from the sources'
/// validation split) -> pipeline.md. Every stage writes into its own folder under the output folder.</summary>
public static class PipelineRunner
{
    /// <summary>The options of every stage: the stage's command defaults, the recipe's section, the pipeline's
    /// overrides, and the wiring (folders under --out, the split of --holdout, seed, threads, device, --force for
    /// the run folders). No I/O but whether data/pretrained/&lt;size&gt; holds a pack: a test compares it with the commands' defaults.</summary>
    public static PipelinePlan Plan(PipelineOptions o)
    {
        o.Validate();
        var protocol = o.Protocol!;
        string Dir(string name) => Path.Combine(o.Out, name);
        T Stage<T>(T defaults, string section) where T : CommonOptions =>
            Recipes.Apply(defaults, o.Recipe, section) with { Seed = o.Seed, Threads = o.Threads, Device = o.Device, Verbose = o.Verbose };
        var synth = Stage(new SynthOptions(), "synth") with { Out = Dir("world") };
        if (o.PerDomain > 0) synth = synth with { PerDomain = o.PerDomain };
        var manifest = Path.Combine(synth.Out, "manifest.jsonl");
        var split = Stage(new SplitOptions(), "split") with { Data = manifest, Protocol = protocol, Out = Dir("splits") };
        string train = Path.Combine(split.Out, ProtocolSplit.TrainFile), val = Path.Combine(split.Out, ProtocolSplit.ValFile),
            test = Path.Combine(split.Out, ProtocolSplit.TestFile);
        var augment = Stage(new AugmentOptions(), "augment") with { Data = train, Annotations = Dir("annotations.jsonl"), Out = Dir("chains.jsonl") };
        var sft = Stage(new SftOptions(), "sft") with { Recipe = o.Recipe, Chains = augment.Out, Val = val, Out = Dir("sft"), Force = true };
        if (o.SftSteps > 0) sft = sft with { Steps = o.SftSteps, Warmup = Math.Min(sft.WarmupSteps, o.SftSteps) };
        if (o.ModelSize != "") sft = sft with { ModelSize = o.ModelSize };
        // SFT starts from --pretrained, else the shipped pack of the model size (data/pretrained/<size>) when there is one.
        if (!o.FromScratch) sft = sft with { Init = o.Pretrained != "" ? o.Pretrained : PretrainedPack.Shipped(sft.ModelSize) ?? "" };
        var grpo = Stage(new GrpoOptions(), "grpo") with { Recipe = o.Recipe, Init = sft.Out, Data = train, Val = val, Out = Dir("grpo"), Force = true };
        if (o.GrpoSteps > 0) grpo = grpo with { Steps = o.GrpoSteps };
        var eval = Stage(new EvalOptions(), "eval") with { Model = grpo.Out, Data = test, Val = val, Out = Dir("eval") };
        foreach (var stage in new CommonOptions[] { synth, split, augment, sft, grpo, eval }) stage.Validate();
        return new PipelinePlan(o, protocol, synth, split, augment, sft, grpo, eval);
    }

    public static PipelineResult Run(PipelineOptions options, ILogger log, CancellationToken cancel = default)
    {
        var plan = Plan(options);
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
        var outDir = options.Out;
        Directory.CreateDirectory(outDir);
        var p = plan.Protocol;
        log.LogInformation("pipeline: recipe {Recipe}, {Protocol} ({Arrow}), seed {Seed}, out {Out}",
            options.Recipe, p.Name, Protocols.arrow(p), options.Seed, outDir);

        var world = Stage("synth", () => SyntheticWorld.Generate(plan.Synth));
        var all = Manifest.Load(world.ManifestPath);

        Stage("annotate", () =>
        {
            var ann = Annotator.AnnotateSamples(all, plan.Synth.Size, options.Threads);
            Annotator.WriteJsonl(plan.Augment.Annotations, ann);
            var rep = AnnotationReports.Agreement(all.Where(s => s.Cues != null).ToList(), ann.ToDictionary(x => x.Id, x => x.Cues));
            AtomicFile.WriteAllText(Path.Combine(outDir, "annotations.agreement.txt"), rep.ToText());
            log.LogInformation("annotate: macro F1 {F1:F3} against the world's ground truth, exact cue sets {Exact:P1}", rep.MacroF1, rep.ExactSetRate);
            return 0;
        });

        // Split: the held-out domain is the test set; the sources are split into train and validation by a seeded shuffle.
        var sp = plan.Split;
        var (train, val, test) = ProtocolSplit.Make(all, p.Name, p.Sources.ToArray(), p.Targets.ToArray(), sp.ValFraction, sp.Seed, world.ManifestPath,
            w => log.LogWarning("split: {Warning}", w));
        ProtocolSplit.Write(sp.Out, p.Name, p.Sources.ToArray(), p.Targets.ToArray(), train, val, test, world.ManifestPath, sp.ValFraction, sp.Seed);
        log.LogInformation("split: train {Train}, validation {Val} (sources {Sources}), test {Test} (held-out {Holdout})",
            train.Count, val.Count, string.Concat(p.Sources), test.Count, string.Concat(p.Targets));

        var chains = Stage("augment", () => Augmenter.Run(plan.Augment, GrammarStore.Default));
        log.LogInformation("augment: {Chains} chains from {Samples} labelled samples ({Shuffle} shuffle)", chains.Chains, chains.Samples, Shuffle.toText(plan.Augment.Shuffle));

        if (!options.FromScratch && plan.Sft.Init == "")
            log.LogWarning("pipeline: no pretrained pack is shipped for model size {Size} (data/pretrained/{Size}); SFT starts from scratch",
                plan.Sft.ModelSize, plan.Sft.ModelSize);
        var sft = Stage("sft", () => SftTrainer.Run(plan.Sft with { Cancel = cancel }, log));
        log.LogInformation("sft: loss {First:F3} -> {Last:F3} in {Steps} steps", sft.FirstLoss, sft.LastLoss, sft.Step);

        var grpoDir = plan.Grpo.Out;
        var grpo = Stage("grpo", () => GrpoTrainer.Run(plan.Grpo with { Cancel = cancel }, log));
        log.LogInformation("grpo: mean reward {First:F3} -> {Last:F3}; zero-std groups {ZeroStd:P1}", grpo.FirstReward, grpo.LastReward, grpo.MeanZeroStdFraction);

        var evalDir = plan.Eval.Out;
        var best = Path.Combine(grpoDir, RunFolder.Best);
        var evaluated = Directory.Exists(best) ? best : grpoDir;
        var ev = Stage("eval", () => EvalRunner.Run(plan.Eval with { Model = evaluated }, log));
        // The evaluated checkpoint gets its validation threshold, so predict / FaceAntiSpoofer.Load(grpo/best) use it.
        // Only that one: the run folder itself resolves to final/, whose weights may differ from best/'s.
        File.Copy(Path.Combine(evalDir, "threshold.json"), Path.Combine(evaluated, "threshold.json"), overwrite: true);

        var report = Path.Combine(outDir, "pipeline.md");
        AtomicFile.WriteAllText(report, Summary(plan, train.Count, val.Count, test.Count, chains, sft, grpo, ev, stages, total.Elapsed.TotalSeconds));
        return new PipelineResult(outDir, report, ev.Report, ev.Quality, total.Elapsed.TotalSeconds, stages, ev.Test);
    }

    private static string Summary(PipelinePlan plan, int nTrain, int nVal, int nTest, AugmentResult chains, SftResult sft,
        GrpoResult grpo, EvalResult ev, List<(string Stage, double Seconds)> stages, double seconds)
    {
        var r = ev.Report;
        var (o, p) = (plan.Options, plan.Protocol);
        string sources = string.Concat(p.Sources), holdout = string.Concat(p.Targets);
        var sb = new StringBuilder();
        sb.Append($"# PA-FAS pipeline ({o.Recipe} recipe)\n\n");
        sb.Append($"Synthetic world, {sources} -> {holdout} (train on the sources, test on the held-out domain), seed {o.Seed}, ");
        sb.Append($"{seconds / 60:F1} min in all.\n\n");
        sb.Append("| stage | what | seconds |\n|---|---|---:|\n");
        string What(string s) => s switch
        {
            "synth" => $"{plan.Synth.PerDomain} samples per domain, {plan.Synth.Size}x{plan.Synth.Size}",
            "annotate" => "cue annotation from the images (annotations.agreement.txt)",
            "augment" => $"{chains.Samples} labelled samples x up to {plan.Augment.Paths} PNRPS paths = {chains.Chains} chains, {ShuffleText(plan.Augment.Shuffle)}",
            "sft" => $"{sft.Step} steps ({plan.Sft.ModelSize} model, from {(plan.Sft.Init == "" ? "scratch" : plan.Sft.Init)}), loss {sft.FirstLoss:F3} -> {sft.LastLoss:F3}",
            "grpo" => $"{grpo.Step} steps, {plan.Grpo.Prompts} prompts x {plan.Grpo.Group} completions, reward ({RewardText(plan.Grpo.RewardConfig)}) {grpo.FirstReward:F3} -> {grpo.LastReward:F3}, zero-std groups {100 * grpo.MeanZeroStdFraction:F1}%",
            "eval" => $"{nTest} held-out samples, threshold from {nVal} validation samples",
            _ => "",
        };
        foreach (var (s, t) in stages) sb.Append($"| {s} | {What(s)} | {t:F0} |\n");
        sb.Append($"\nSplits: train {nTrain}, validation {nVal} (from the sources), test {nTest} (domain {holdout}).\n\n");
        sb.Append($"## Held-out domain {holdout}\n\n");
        var q = ev.Quality;
        sb.Append("| HTER | AUC | ACER | EER | format failures | answer live/spoof | consistency | answer/score agreement | faithfulness |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        sb.Append($"| {100 * r.Hter:F2}% | {100 * r.Auc:F2}% | {100 * r.Acer:F2}% | {100 * r.Eer:F2}% | {ReasoningReport.Text(q.FormatFailures)} | {ReasoningReport.Text(q.AnswerLive)} | {ReasoningReport.Text(q.Consistency)} | {ReasoningReport.Text(q.AnswerScoreAgreement)} | {ReasoningReport.Faithfulness(q)} |\n\n");
        var best = Path.Combine(plan.Grpo.Out, RunFolder.Best);
        sb.Append($"Chance is HTER 50%, AUC 50%. Full report: `{Path.Combine(plan.Eval.Out, "report.md")}`; model: `{(Directory.Exists(best) ? best : plan.Grpo.Out)}` (the evaluated checkpoint, with its threshold.json).\n");
        return sb.ToString();
    }

    private static string ShuffleText(ShuffleMode m) => m.IsNoShuffle ? "answers not shuffled" : $"{Shuffle.toText(m)} shuffle";

    /// <summary>The GRPO reward's terms with their weights, e.g. "format + classification (hierarchical) + 1 x conclusion".</summary>
    private static string RewardText(RewardConfig g)
    {
        var terms = new List<string>();
        string W(double w, string name) => w == 1 ? name : $"{w.ToString("0.###", CultureInfo.InvariantCulture)} x {name}";
        if (g.FormatWeight > 0) terms.Add(W(g.FormatWeight, "format"));
        if (g.ClassWeight > 0) terms.Add(W(g.ClassWeight, $"classification ({Rewards.modeText(g.Mode)})"));
        if (g.ConclusionWeight > 0) terms.Add(W(g.ConclusionWeight, "conclusion"));
        if (g.ConsistencyWeight > 0) terms.Add(W(g.ConsistencyWeight, "consistency"));
        if (g.CoherenceWeight > 0) terms.Add(W(g.CoherenceWeight, "coherence"));
        return terms.Count == 0 ? "none" : string.Join(" + ", terms);
    }
}

/// <summary>The options of every stage of one pipeline run (<see cref="PipelineRunner.Plan"/>).</summary>
public sealed record PipelinePlan(PipelineOptions Options, Protocol Protocol, SynthOptions Synth, SplitOptions Split,
    AugmentOptions Augment, SftOptions Sft, GrpoOptions Grpo, EvalOptions Eval);
