using System.Globalization;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;
using static TorchSharp.torch;
using Generator = PaFas.Host.Model.Generator;

namespace PaFas.Host.Training;

/// <summary>How well a model describes faces (the describe task, greedy): <see cref="Presence"/> = share whose start
/// sentence names exactly the present modalities; <see cref="ExactSet"/> = share whose set of observations equals the
/// drawn cues; micro precision / recall / F1 over cues; <see cref="WellFormed"/> = share whose every sentence is one
/// the grammar knows; recall per cue and exact-set share per domain.</summary>
public sealed record PerceptionScore(int Faces, double Presence, double ExactSet, double Precision, double Recall, double F1, double WellFormed,
    IReadOnlyDictionary<string, double> RecallByCue, IReadOnlyDictionary<string, double> ExactSetByDomain)
{
    /// <summary>The values for metrics.jsonl (prefixed "perception_").</summary>
    public Dictionary<string, object?> Values()
    {
        var v = new Dictionary<string, object?>
        {
            ["perception_faces"] = (double)Faces, ["perception_presence"] = Presence, ["perception_exact_set"] = ExactSet,
            ["perception_precision"] = Precision, ["perception_recall"] = Recall, ["perception_f1"] = F1, ["perception_well_formed"] = WellFormed,
        };
        foreach (var (d, x) in ExactSetByDomain) v[$"perception_exact_set_{d}"] = x;
        foreach (var (c, x) in RecallByCue) v[$"perception_recall_{c.Replace(':', '_')}"] = x;
        return v;
    }

    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"presence {100 * Presence:F1}%, exact cue set {100 * ExactSet:F1}% ({string.Join(", ", ExactSetByDomain.Select(kv => $"{kv.Key} {100 * kv.Value:F0}%"))}), " +
        $"cue P/R/F1 {100 * Precision:F1}/{100 * Recall:F1}/{100 * F1:F1}%, well-formed {100 * WellFormed:F1}% on {Faces} faces");
}

/// <summary>Held-out perception measurement on faces of the world's four protocol domains (rendered with their own
/// settings and a seed of their own, never seen in pretraining).</summary>
public sealed class PerceptionProbe
{
    private readonly List<(string Domain, FaceTensors Face, List<Cue> Cues)> _items;

    private PerceptionProbe(List<(string, FaceTensors, List<Cue>)> items) { _items = items; }

    public int Count => _items.Count;

    /// <summary><paramref name="perDomain"/> faces of each default domain (C, P, S, W), rendered at 64 px like the
    /// world and loaded at <paramref name="imageSize"/>.</summary>
    public static PerceptionProbe FromWorld(int seed, int perDomain, int imageSize, int threads)
    {
        var rendered = SyntheticWorld.RenderAll(new SynthOptions { PerDomain = perDomain, Size = 64, Seed = seed, Threads = threads });
        return new PerceptionProbe(rendered.Select(r => (r.Domain, SyntheticWorld.ToFace(r, imageSize), PerceptionTasks.CuesOf(r.Cues))).ToList());
    }

    /// <summary>Greedy describe-task completions of every face, scored.</summary>
    public PerceptionScore Run(PaFasModel model, Tokenizer tok, Grammar g, Device dev, int batch, int maxNewTokens = 128)
    {
        var texts = new List<string>();
        for (int i = 0; i < _items.Count; i += batch)
        {
            var part = _items.GetRange(i, Math.Min(batch, _items.Count - i));
            using var scope = torch.NewDisposeScope();
            using var vb = VisionBatch.From(part.Select(p => p.Face).ToList(), dev);
            var prompts = part.Select(_ => new[] { tok.Bos }).ToList();
            texts.AddRange(Generator.Generate(model, tok, vb, prompts, new GenerationOptions(MaxNewTokens: maxNewTokens)).Texts);
        }
        return Score(g, _items.Select(x => (x.Domain, PerceptionTasks.Present(x.Face), (IReadOnlyList<Cue>)x.Cues)).ToList(), texts);
    }

    /// <summary>Scores describe-task texts against the truth (pure: no model).</summary>
    public static PerceptionScore Score(Grammar g, IReadOnlyList<(string Domain, List<PaFas.Core.Modality> Present, IReadOnlyList<Cue> Cues)> truth,
        IReadOnlyList<string> texts)
    {
        if (truth.Count != texts.Count) throw new ArgumentException($"{texts.Count} texts for {truth.Count} faces");
        int presence = 0, exact = 0, formed = 0, tp = 0, fp = 0, fn = 0;
        var cueSeen = new Dictionary<string, (int Hit, int Total)>();
        var byDomain = new Dictionary<string, (int Hit, int Total)>();
        for (int i = 0; i < texts.Count; i++)
        {
            var (domain, present, cues) = truth[i];
            var clauses = GrammarModule.clauses(g, texts[i]).ToList();
            if (clauses.All(c => c.IsKnown)) formed++;
            var steps = clauses.OfType<Clause.Known>().Select(k => k.Item).ToList();
            if (steps.FirstOrDefault() is Step.Start s && s.Item.SequenceEqual(present)) presence++;
            var said = steps.OfType<Step.Observe>().Select(o => o.Item).ToHashSet();
            var truthSet = cues.Where(c => present.Contains(c.Modality)).ToHashSet();
            bool same = said.SetEquals(truthSet);
            if (same) exact++;
            var (h, t) = byDomain.GetValueOrDefault(domain);
            byDomain[domain] = (h + (same ? 1 : 0), t + 1);
            tp += said.Count(truthSet.Contains); fp += said.Count(c => !truthSet.Contains(c)); fn += truthSet.Count(c => !said.Contains(c));
            foreach (var c in truthSet)
            {
                var key = CueModule.text(c);
                var (ch, ct) = cueSeen.GetValueOrDefault(key);
                cueSeen[key] = (ch + (said.Contains(c) ? 1 : 0), ct + 1);
            }
        }
        int n = Math.Max(1, texts.Count);
        double p = tp + fp > 0 ? (double)tp / (tp + fp) : 0, r = tp + fn > 0 ? (double)tp / (tp + fn) : 0;
        return new PerceptionScore(texts.Count, (double)presence / n, (double)exact / n, p, r, p + r > 0 ? 2 * p * r / (p + r) : 0, (double)formed / n,
            cueSeen.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => (double)kv.Value.Hit / kv.Value.Total),
            byDomain.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => (double)kv.Value.Hit / kv.Value.Total));
    }
}
