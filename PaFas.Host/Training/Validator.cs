using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;
using Generator = PaFas.Host.Model.Generator;

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
    private readonly int _seed;

    private Validator(List<TokenizedChain>? chains, List<SampleRecord>? samples, FaceCache faces, Grammar grammar, int seed)
    {
        _chains = chains; _samples = samples; _faces = faces; _grammar = grammar; _seed = seed;
    }

    /// <summary>Number of validation chains or samples.</summary>
    public int Count => _chains?.Count ?? _samples!.Count;
    public bool OnChains => _chains != null;

    /// <summary>From held-out chains already tokenized.</summary>
    public static Validator FromChains(List<TokenizedChain> chains, FaceCache faces, Grammar grammar, int seed) =>
        new(chains, null, faces, grammar, seed);

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
            return FromChains(tokens, faces, grammar, seed);
        }
        var all = Manifest.Load(path, new ManifestOptions { Root = root });
        var usable = all.Where(s => TaxonomyModule.isValidLabel(grammar.Taxonomy, ListModule.OfSeq(s.Label))).ToList();
        if (usable.Count == 0) throw new InvalidDataException($"{path}: no validation sample has a full taxonomy label");
        var samples = Subset(usable, max, seed);
        faces.Preload(samples, threads);
        log.LogInformation("validation: {N} samples from {Path} (greedy accuracy and live-score AUC)", samples.Count, path);
        return new Validator(null, samples, faces, grammar, seed);
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
            return _chains != null ? RunLoss(model, tok, dev, batch) : RunGeneration(model, tok, dev, batch, maxNewTokens);
        }
        finally { model.train(); }
    }

    private ValidationResult RunLoss(PaFasModel model, Tokenizer tok, Device dev, int batch)
    {
        double sum = 0; long count = 0;
        for (int i = 0; i < _chains!.Count; i += batch)
        {
            var items = _chains.Skip(i).Take(batch).ToList();
            using var scope = torch.NewDisposeScope();
            using var b = SftBatch.Build(items, tok.Pad, dev);
            using var vb = VisionBatch.From(items.Select(c => c.Face).ToList(), dev);
            var logits = model.Logits(vb, b.Tokens, b.Attention);
            sum += SftLoss.Sum(logits.to(ScalarType.Float32), b.Labels).to(ScalarType.Float64).item<double>();
            count += b.Targets;
        }
        double loss = sum / Math.Max(1, count);
        return new ValidationResult("neg_val_loss", -loss, new Dictionary<string, object?>
        {
            ["val_loss"] = loss, ["val_ppl"] = Math.Exp(Math.Min(loss, 50)), ["val_tokens"] = (double)count,
        });
    }

    /// <summary>Greedy generation on the validation samples; returns the texts and live scores.</summary>
    public static (string[] Texts, double[] Scores, int[] Lengths) Generate(PaFasModel model, Tokenizer tok, Device dev,
        IReadOnlyList<FaceTensors> faces, int batch, int maxNewTokens, long seed)
    {
        var texts = new string[faces.Count];
        var scores = new double[faces.Count];
        var lengths = new int[faces.Count];
        for (int i = 0; i < faces.Count; i += batch)
        {
            var chunk = faces.Skip(i).Take(batch).ToList();
            var prompts = chunk.Select(f => Prompt.Encode(tok, f)).ToList();
            using var vb = VisionBatch.From(chunk, dev);
            var gen = Generator.Generate(model, tok, vb, prompts, new GenerationOptions(maxNewTokens, Seed: seed));
            var live = LiveScore.Compute(model, tok, vb, prompts, gen.Completions);
            for (int j = 0; j < chunk.Count; j++)
            {
                texts[i + j] = gen.Texts[j];
                scores[i + j] = live[j];
                lengths[i + j] = gen.Completions[j].Length;
            }
        }
        return (texts, scores, lengths);
    }

    private ValidationResult RunGeneration(PaFasModel model, Tokenizer tok, Device dev, int batch, int maxNewTokens)
    {
        var faces = _samples!.Select(_faces.Get).ToList();
        var (texts, scores, lengths) = Generate(model, tok, dev, faces, batch, maxNewTokens, _seed);
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
