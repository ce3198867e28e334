using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Evaluation;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>One validation: the metric that picks best/ (higher is better) and every value logged.</summary>
public sealed record ValidationResult(string MetricName, double Metric, IReadOnlyDictionary<string, object?> Values);

/// <summary>Periodic validation during training. On held-out chains (a chain JSONL): the completion-token loss
/// (metric = -loss). On a labelled manifest: live-score AUC (metric = AUC when both classes are present, else the
/// answer's leaf accuracy). Both also generate a greedy chain per sample (for chains: each held-out chain's sample)
/// and measure it with the core's judge (<see cref="Judge"/>, <see cref="Diagnosis"/>): the written answer against
/// the truth (<c>val_accuracy</c> = leaf, <c>val_binary_accuracy</c> = live/spoof), <c>val_format</c> (1 - format
/// failure rate), and, under the names of eval's metrics.json "reasoning" object prefixed <c>val_</c>, the chain's
/// conclusion against the truth, consistency, answer/score agreement (the score verdict at the validation set's
/// EER threshold, 0.5 with one class), self-contradiction and faithfulness (NaN where not measurable).</summary>
public sealed class Validator
{
    /// <summary>Keys of <see cref="ReasoningReport.Json"/> logged under the headline names instead.</summary>
    private static readonly HashSet<string> Headline = new() { "answer_leaf_accuracy", "answer_live_spoof_accuracy", "format_failure_rate" };

    private readonly List<TokenizedChain>? _chains;
    private readonly List<SampleRecord> _samples;
    private readonly FaceCache _faces;
    private readonly Grammar _grammar;

    private Validator(List<TokenizedChain>? chains, List<SampleRecord> samples, FaceCache faces, Grammar grammar)
    {
        _chains = chains; _samples = samples; _faces = faces; _grammar = grammar;
    }

    /// <summary>Number of validation chains or samples.</summary>
    public int Count => _chains?.Count ?? _samples.Count;
    public bool OnChains => _chains != null;

    /// <summary>From held-out chains already tokenized and their records (the samples whose chains are generated).</summary>
    public static Validator FromChains(List<TokenizedChain> chains, IEnumerable<ChainRecord> records, FaceCache faces, Grammar grammar)
    {
        var samples = records.GroupBy(c => c.SampleId).Select(g => g.First().ToSample())
            .Where(s => TaxonomyModule.isValidLabel(grammar.Taxonomy, ListModule.OfSeq(s.Label))).ToList();
        return new(chains, samples, faces, grammar);
    }

    /// <summary>From a file: a chain JSONL (validation loss) or a manifest (AUC). At most <paramref name="max"/>
    /// items (0 = all), a seeded random subset.</summary>
    public static Validator Load(string path, string root, Grammar grammar, Tokenizer tok, FaceCache faces, int maxSeq, int max, int seed,
        int threads, ILogger log)
    {
        if (ChainFile.IsChainFile(path))
        {
            var chains = Subset(ChainFile.Load(path, root), max, seed);
            faces.Preload(chains.Select(c => c.ToSample()), threads);
            var tokens = ChainTokens.Encode(chains, tok, faces, maxSeq, out int cut);
            var v = FromChains(tokens, chains, faces, grammar);
            log.LogInformation("validation: {N} chains from {Path} (loss on completion tokens; greedy chains of their {S} samples){Cut}",
                tokens.Count, path, v._samples.Count, cut > 0 ? $", {cut} truncated to {maxSeq} tokens" : "");
            return v;
        }
        var all = Manifest.Load(path, new ManifestOptions { Root = root });
        var usable = all.Where(s => TaxonomyModule.isValidLabel(grammar.Taxonomy, ListModule.OfSeq(s.Label))).ToList();
        if (usable.Count == 0) throw new InvalidDataException($"{path}: no validation sample has a full taxonomy label");
        var samples = Subset(usable, max, seed);
        faces.Preload(samples, threads);
        log.LogInformation("validation: {N} samples from {Path} (greedy chains judged, live-score AUC)", samples.Count, path);
        return new Validator(null, samples, faces, grammar);
    }

    /// <summary>A seeded random subset of at most <paramref name="max"/> items in their original order.</summary>
    public static List<T> Subset<T>(IReadOnlyList<T> items, int max, int seed)
    {
        if (max <= 0 || items.Count <= max) return items.ToList();
        var rng = new Random(StepSeed.Derive(seed, 0, StepSeed.Validation));
        return Enumerable.Range(0, items.Count).OrderBy(_ => rng.Next()).Take(max).Order().Select(i => items[i]).ToList();
    }

    public ValidationResult Run(PaFasModel model, Tokenizer tok, Device dev, int batch, int maxNewTokens)
    {
        model.eval();
        try
        {
            using var nograd = torch.no_grad();
            var values = new Dictionary<string, object?>();
            if (_chains != null)
            {
                var (loss, count) = SftLoss.Evaluate(model, _chains, tok.Pad, dev, batch);
                values["val_loss"] = loss; values["val_ppl"] = Math.Exp(Math.Min(loss, 50)); values["val_tokens"] = (double)count;
            }
            var (auc, accuracy) = _samples.Count > 0 ? Generate(model, tok, batch, maxNewTokens, values) : (double.NaN, double.NaN);
            if (_chains != null) return new ValidationResult("neg_val_loss", -(double)values["val_loss"]!, values);
            return double.IsNaN(auc) ? new ValidationResult("val_accuracy", accuracy, values) : new ValidationResult("val_auc", auc, values);
        }
        finally { model.train(); }
    }

    /// <summary>Greedy chains and live scores of the samples, judged and measured (see the class summary) into
    /// <paramref name="values"/>; returns the AUC (NaN with one class) and the answer's leaf accuracy.</summary>
    private (double Auc, double Accuracy) Generate(PaFasModel model, Tokenizer tok, int batch, int maxNewTokens, Dictionary<string, object?> values)
    {
        var faces = _samples.Select(_faces.Get).ToList();
        var rollouts = Rollouts.Run(model, tok, faces, RolloutOptions.Greedy(maxNewTokens, batch));
        var scored = _samples.Select((s, i) =>
            new Scored(double.IsFinite(rollouts[i].LiveScore) ? rollouts[i].LiveScore : 0.5, s.IsLive, s.IsLive ? "" : s.Attack, s.Domain)).ToArray();
        bool bothClasses = scored.Any(x => x.IsLive) && scored.Any(x => !x.IsLive);
        double auc = bothClasses ? Metrics.auc(scored) : double.NaN;
        double threshold = bothClasses ? Metrics.eer(scored).Threshold : 0.5;
        var judged = _samples.Select((s, i) =>
            new Generated(s, rollouts[i].Text, scored[i].Score, Judge.completion(_grammar, rollouts[i].Text), EvalRunner.TruthOf(s, faces[i])));
        var q = DiagnosisModule.summarize(EvalRunner.Assess(_grammar, judged, threshold).Select(r => r.Diagnosis));
        values["val_accuracy"] = q.AnswerLeaf.Value;
        values["val_binary_accuracy"] = q.AnswerLive.Value;
        values["val_format"] = 1 - q.FormatFailures.Value;
        values["val_auc"] = auc;
        values["val_score_threshold"] = threshold;
        foreach (var (k, v) in ReasoningReport.Json(q))
            if (!Headline.Contains(k) && v is null or double) values["val_" + k] = v as double? ?? double.NaN;
        values["val_completion_length"] = rollouts.Average(r => r.Completion.Length);
        values["val_sample"] = rollouts[0].Text;
        return (auc, q.AnswerLeaf.Value);
    }
}
