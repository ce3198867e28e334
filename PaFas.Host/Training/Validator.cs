using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Training;

/// <summary>One validation: the metric that picks best/ (higher is better) and every value logged.</summary>
public sealed record ValidationResult(string MetricName, double Metric, IReadOnlyDictionary<string, object?> Values);

/// <summary>Periodic validation during training. On held-out chains (a chain JSONL): the completion-token loss
/// (metric = -loss). On a labelled manifest: greedy chains + live scores -> exact-leaf and live/spoof accuracy,
/// format rate and live-score AUC (metric = AUC when both classes are present, else exact accuracy).</summary>
public sealed class Validator
{
    private readonly List<TokenizedChain>? _chains;
    private readonly List<SampleRecord>? _samples;
    private readonly FaceCache _faces;
    private readonly Grammar _grammar;

    private Validator(List<TokenizedChain>? chains, List<SampleRecord>? samples, FaceCache faces, Grammar grammar)
    {
        _chains = chains; _samples = samples; _faces = faces; _grammar = grammar;
    }

    /// <summary>Number of validation chains or samples.</summary>
    public int Count => _chains?.Count ?? _samples!.Count;
    public bool OnChains => _chains != null;

    /// <summary>From held-out chains already tokenized.</summary>
    public static Validator FromChains(List<TokenizedChain> chains, FaceCache faces, Grammar grammar) =>
        new(chains, null, faces, grammar);

    /// <summary>From a file: a chain JSONL (validation loss) or a manifest (generation metrics). At most
    /// <paramref name="max"/> items (0 = all), a seeded random subset.</summary>
    public static Validator Load(string path, string root, Grammar grammar, Tokenizer tok, FaceCache faces, int maxSeq, int max, int seed,
        int threads, ILogger log)
    {
        if (ChainFile.IsChainFile(path))
        {
            var chains = Subset(ChainFile.Load(path, root), max, seed);
            faces.Preload(chains.Select(c => c.ToSample()), threads);
            var tokens = ChainTokens.Encode(chains, tok, faces, maxSeq, out int cut);
            log.LogInformation("validation: {N} chains from {Path} (loss on completion tokens){Cut}", tokens.Count, path,
                cut > 0 ? $", {cut} truncated to {maxSeq} tokens" : "");
            return FromChains(tokens, faces, grammar);
        }
        var all = Manifest.Load(path, new ManifestOptions { Root = root });
        var usable = all.Where(s => TaxonomyModule.isValidLabel(grammar.Taxonomy, ListModule.OfSeq(s.Label))).ToList();
        if (usable.Count == 0) throw new InvalidDataException($"{path}: no validation sample has a full taxonomy label");
        var samples = Subset(usable, max, seed);
        faces.Preload(samples, threads);
        log.LogInformation("validation: {N} samples from {Path} (greedy accuracy and live-score AUC)", samples.Count, path);
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
            return _chains != null ? RunLoss(model, tok, dev, batch) : RunGeneration(model, tok, batch, maxNewTokens);
        }
        finally { model.train(); }
    }

    private ValidationResult RunLoss(PaFasModel model, Tokenizer tok, Device dev, int batch)
    {
        var (loss, count) = SftLoss.Evaluate(model, _chains!, tok.Pad, dev, batch);
        return new ValidationResult("neg_val_loss", -loss, new Dictionary<string, object?>
        {
            ["val_loss"] = loss, ["val_ppl"] = Math.Exp(Math.Min(loss, 50)), ["val_tokens"] = (double)count,
        });
    }

    private ValidationResult RunGeneration(PaFasModel model, Tokenizer tok, int batch, int maxNewTokens)
    {
        var faces = _samples!.Select(_faces.Get).ToList();
        var rollouts = Rollouts.Run(model, tok, faces, RolloutOptions.Greedy(maxNewTokens, batch));
        var texts = rollouts.Select(r => r.Text).ToArray();
        var scores = rollouts.Select(r => r.LiveScore).ToArray();
        var lengths = rollouts.Select(r => r.Completion.Length).ToArray();
        double exact = 0, binary = 0, format = 0;
        var scored = new Scored[_samples.Count];
        for (int i = 0; i < _samples.Count; i++)
        {
            var s = _samples[i];
            var truth = ListModule.OfSeq(s.Label);
            exact += Rewards.classification(_grammar, ClassMode.ExactLeaf, truth, texts[i]);
            binary += Rewards.classification(_grammar, ClassMode.Binary, truth, texts[i]);
            format += Rewards.format(_grammar, texts[i]);
            scored[i] = new Scored(double.IsFinite(scores[i]) ? scores[i] : 0.5, s.IsLive, s.IsLive ? "" : s.Attack, s.Domain);
        }
        int n = _samples.Count;
        bool bothClasses = scored.Any(x => x.IsLive) && scored.Any(x => !x.IsLive);
        double auc = bothClasses ? Metrics.auc(scored) : double.NaN;
        var values = new Dictionary<string, object?>
        {
            ["val_accuracy"] = exact / n, ["val_binary_accuracy"] = binary / n, ["val_format"] = format / n,
            ["val_auc"] = auc, ["val_completion_length"] = lengths.Average(),
            ["val_sample"] = texts.Length > 0 ? texts[0] : "",
        };
        return bothClasses ? new ValidationResult("val_auc", auc, values) : new ValidationResult("val_accuracy", exact / n, values);
    }
}
