using System.Text.Json;
using PaFas.Core;
using PaFas.Host.IO;

namespace PaFas.Host.Data;

/// <summary>The manifests of one protocol split, as written by <see cref="ProtocolSplit.Write"/>.</summary>
public sealed record SplitFiles(string TrainPath, string ValPath, string TestPath, int Train, int Val, int Test);

/// <summary>Cuts one manifest into a protocol's train / validation / test sets: the target domains are the test set;
/// the source domains are split into train and validation by a seeded shuffle (the validation split sets the decision
/// threshold and picks the best checkpoint, so the target domain is never looked at before the test).</summary>
public static class ProtocolSplit
{
    /// <summary>The files of a split folder.</summary>
    public const string TrainFile = "train.jsonl", ValFile = "val.jsonl", TestFile = "test.jsonl", InfoFile = "split.json";

    /// <summary>The files <see cref="Write"/> writes into its folder.</summary>
    public static readonly string[] Files = { TrainFile, ValFile, TestFile, InfoFile };

    /// <summary>Below this many samples a validation or training split is reported as too small to rely on.</summary>
    public const int SmallSplit = 8;

    /// <summary>Validation samples for <paramref name="sources"/> source samples: the fraction, rounded. (It used to
    /// be at least 8, which put 8 of 12 sources into validation at --val-fraction 0.15.)</summary>
    public static int ValidationCount(int sources, double fraction) => (int)Math.Round(sources * fraction, MidpointRounding.AwayFromZero);

    /// <summary>The split of <paramref name="all"/>. Domains match case-insensitively. A source or target domain
    /// without samples is an error naming <paramref name="manifest"/>, the protocol, and the domains present.
    /// The same samples, sources, fraction and seed give the same split. A validation split without a live or without
    /// a spoof sample (no threshold can be set on it), or an empty training split, is refused; a validation or
    /// training split under <see cref="SmallSplit"/> samples is passed to <paramref name="warn"/>.</summary>
    public static (List<SampleRecord> Train, List<SampleRecord> Val, List<SampleRecord> Test) Make(
        IReadOnlyList<SampleRecord> all, string protocol, IReadOnlyCollection<string> sources, IReadOnlyCollection<string> targets,
        double valFraction, int seed, string manifest, Action<string>? warn = null)
    {
        if (!(valFraction > 0 && valFraction < 1))
            throw new ArgumentException($"validation fraction must be in (0, 1), got {valFraction}");
        var present = all.Select(s => s.Domain).Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(d => d, StringComparer.Ordinal).ToList();
        var missing = sources.Concat(targets).Where(d => !present.Contains(d, StringComparer.OrdinalIgnoreCase)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException(
                $"{manifest}: protocol {protocol} needs domain{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)}, which the manifest does not have " +
                $"(domains present: {(present.Count == 0 ? "none" : string.Join(", ", present.Select(d => d == "" ? "<none>" : d)))})");
        var src = new HashSet<string>(sources, StringComparer.OrdinalIgnoreCase);
        var tgt = new HashSet<string>(targets, StringComparer.OrdinalIgnoreCase);
        var rng = new Random(seed);
        var shuffled = all.Where(s => src.Contains(s.Domain)).OrderBy(_ => rng.Next()).ToList();
        int nVal = ValidationCount(shuffled.Count, valFraction);
        if (nVal < 1)
            throw new InvalidDataException(
                $"{manifest}: protocol {protocol}: {shuffled.Count} source samples give no validation sample at fraction {valFraction}");
        if (nVal >= shuffled.Count)
            throw new InvalidDataException(
                $"{manifest}: protocol {protocol}: {shuffled.Count} source samples are too few for a validation split of {nVal} and a non-empty training split");
        var val = shuffled.Take(nVal).OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
        var train = shuffled.Skip(nVal).OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
        int live = val.Count(s => s.IsLive);
        if (live == 0 || live == val.Count)
            throw new InvalidDataException(
                $"{manifest}: protocol {protocol}: the validation split ({val.Count} of {shuffled.Count} source samples at fraction {valFraction}) " +
                $"has {(live == 0 ? "no live" : "no spoof")} sample, so no threshold can be set on it; use a larger fraction or more data");
        if (val.Count < SmallSplit || train.Count < SmallSplit)
            warn?.Invoke($"{manifest}: protocol {protocol}: {train.Count} training and {val.Count} validation samples " +
                $"({live} live, {val.Count - live} spoof); a split under {SmallSplit} samples is too small for a reliable threshold or checkpoint choice");
        var test = all.Where(s => tgt.Contains(s.Domain)).ToList();
        return (train, val, test);
    }

    /// <summary>Writes train.jsonl, val.jsonl, test.jsonl and split.json (what was split, how) into <paramref name="outDir"/>,
    /// each file atomically.</summary>
    public static SplitFiles Write(string outDir, string protocol, IReadOnlyCollection<string> sources, IReadOnlyCollection<string> targets,
        List<SampleRecord> train, List<SampleRecord> val, List<SampleRecord> test, string manifest, double valFraction, int seed)
    {
        Directory.CreateDirectory(outDir);
        string trainPath = Path.Combine(outDir, TrainFile), valPath = Path.Combine(outDir, ValFile), testPath = Path.Combine(outDir, TestFile);
        Manifest.WriteJsonl(trainPath, train);
        Manifest.WriteJsonl(valPath, val);
        Manifest.WriteJsonl(testPath, test);
        var info = new
        {
            protocol, sources, targets, manifest = Path.GetFullPath(manifest), val_fraction = valFraction, seed,
            train = train.Count, val = val.Count, test = test.Count,
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, InfoFile), JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return new SplitFiles(trainPath, valPath, testPath, train.Count, val.Count, test.Count);
    }
}
