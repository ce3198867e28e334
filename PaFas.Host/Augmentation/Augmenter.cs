using System.Text;
using System.Text.Json;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Augmentation;

/// <summary>What <see cref="Augmenter.Run"/> wrote.</summary>
public sealed record AugmentResult(string OutFile, int Samples, int Chains, int SkippedUnknownAttack, IReadOnlyDictionary<string, int> ChainsPerLeaf)
{
    /// <summary>The annotations file as read (null without --annotations).</summary>
    public AnnotationLoad? Annotations { get; init; }
}

/// <summary>manifest + cue annotations -> PNRPS reasoning chains (with answer / path / no shuffle) or raw-label
/// chains, as JSONL for <c>pafas sft</c>.</summary>
public static class Augmenter
{
    public static AugmentResult Run(AugmentOptions o, Grammar grammar)
    {
        o.Validate();
        // Raw labels are the baseline of the paper's Table 1: each image with its own true label. --shuffle applies to
        // reasoning chains only (a shuffled answer without reasoning would be label noise, not the baseline).
        var mode = o.Mode == AugmentMode.Raw ? ShuffleMode.NoShuffle : o.Shuffle;

        var samples = Manifest.Load(o.Data, new ManifestOptions { Root = o.Root });
        var annotations = string.IsNullOrEmpty(o.Annotations) ? null : AnnotationFile.Load(o.Annotations, samples, grammar);
        var external = annotations?.Cues;
        var domains = o.Domains.Select(d => d.Trim()).Where(d => d != "").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = samples.Where(s => domains.Count == 0 || domains.Contains(s.Domain)).ToList();
        if (kept.Count == 0)
            throw new InvalidDataException($"{o.Data}: no samples left after the domain filter ({string.Join(",", domains)})");

        // Samples without a full taxonomy label (a list-file spoof of unknown attack) cannot have a chain.
        var usable = kept.Where(s => TaxonomyModule.isValidLabel(grammar.Taxonomy, ListModule.OfSeq(s.Label))).ToList();
        int skipped = kept.Count - usable.Count;

        // The limited-annotation budget: a seeded random subset, as the paper's ~800 labelled samples.
        usable = Labelled.choose(o.Seed, o.Labelled, usable.Select(s => s.Id).ToArray()).Select(i => usable[i]).ToList();

        var cfg = o.PathSampling();
        // Each sample's paths depend only on (seed, sample id): sampled in parallel, concatenated in sample order.
        var perSample = new Chain[usable.Count][];
        var po = new ParallelOptions { MaxDegreeOfParallelism = o.Threads > 0 ? o.Threads : Environment.ProcessorCount };
        Parallel.For(0, usable.Count, po, i =>
        {
            var s = usable[i];
            var label = ListModule.OfSeq(s.Label);
            if (o.Mode == AugmentMode.Raw)
            {
                perSample[i] = new[] { new Chain(s.Id, FSharpList<Step>.Empty, label, label) };
                return;
            }
            var ps = new PnrpsSample(label, s.Availability, SetModule.OfSeq(CuesOf(s, external)));
            perSample[i] = Pnrps.sample(grammar, cfg, SampleSeed(o.Seed, s.Id), ps)
                .Select(p => new Chain(s.Id, p.Steps, p.Answer, label)).ToArray();
        });
        var chains = perSample.SelectMany(c => c).ToList();

        var bySample = usable.ToDictionary(s => s.Id);
        var shuffled = Shuffle.apply(mode, o.Seed, ListModule.OfSeq(chains)).ToList();
        var perLeaf = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var shuffleText = o.Mode == AugmentMode.Raw ? "raw" : Shuffle.toText(mode);
        var sb = new StringBuilder();
        var counter = new Dictionary<string, int>();
        foreach (var c in shuffled)
        {
            var s = bySample[c.SampleId];
            counter.TryGetValue(s.Id, out int k);
            counter[s.Id] = k + 1;
            var leaf = TaxonomyModule.leaf(c.TrueLabel);
            perLeaf[leaf] = perLeaf.GetValueOrDefault(leaf) + 1;
            var line = new ChainLine($"{s.Id}#{k}", c, Opt(s.Rgb), Opt(s.Depth), Opt(s.Ir), s.Domain, s.Attack, shuffleText, o.Seed);
            sb.Append(ChainCodec.encode(grammar, line)).Append('\n');
        }
        AtomicFile.WriteAllText(o.Out, sb.ToString());
        return new AugmentResult(o.Out, usable.Count, shuffled.Count, skipped, perLeaf) { Annotations = annotations };
    }

    /// <summary>A per-sample seed that does not depend on the sample's position (stable under filtering).</summary>
    public static int SampleSeed(int seed, string id)
    {
        unchecked
        {
            uint h = 2166136261;
            foreach (char ch in id) { h ^= ch; h *= 16777619; }
            return (int)(h ^ (uint)seed * 0x9E3779B9u) & 0x7fffffff;
        }
    }

    private static IEnumerable<Cue> CuesOf(SampleRecord s, Dictionary<string, string[]>? external)
    {
        IEnumerable<string> texts = external != null
            ? (external.TryGetValue(s.Id, out var c) ? c : Array.Empty<string>())
            : (s.Cues ?? (IReadOnlyList<string>)Array.Empty<string>());
        foreach (var t in texts)
        {
            var cue = CueModule.tryParse(t);
            if (cue == null) throw new InvalidDataException($"{s.Source}: cue '{t}' is not of the form modality:key");
            yield return cue.Value;
        }
    }

    private static FSharpOption<string>? Opt(string? p) => p == null ? null : FSharpOption<string>.Some(p);
}
