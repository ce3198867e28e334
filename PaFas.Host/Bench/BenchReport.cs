using System.Globalization;
using System.Text;
using System.Text.Json;
using PaFas.Host.IO;

namespace PaFas.Host.Bench;

/// <summary>One measured quantity: <see cref="Key"/> is stable and machine-readable (e.g. <c>sft.b32.tokens_per_s</c>),
/// <see cref="Name"/> is for people; median, min and max over the repetitions in <see cref="Runs"/>.</summary>
public sealed record BenchEntry(string Key, string Name, string Unit, double Median, double Min, double Max, double[] Runs)
{
    /// <summary>An entry from repeated measurements (at least one).</summary>
    public static BenchEntry Of(string key, string name, string unit, IEnumerable<double> runs)
    {
        var xs = runs.ToArray();
        if (xs.Length == 0) throw new ArgumentException($"bench {key}: no measurement");
        var sorted = xs.OrderBy(x => x).ToArray();
        return new BenchEntry(key, name, unit, MedianOf(sorted), sorted[0], sorted[^1], xs);
    }

    /// <summary>A single derived value (a ratio, a count).</summary>
    public static BenchEntry Single(string key, string name, string unit, double value) => new(key, name, unit, value, value, value, new[] { value });

    /// <summary>The median of sorted values (mean of the middle two for an even count).</summary>
    public static double MedianOf(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>The q-quantile (0..1) of sorted values, nearest rank.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}

/// <summary>The results of one <c>pafas bench</c> run: entries in order, plus the workload description
/// (<see cref="Spec"/>: preset, sequence lengths, batch sizes, parameter count, FLOPs) that the PyTorch reference
/// (<c>scripts/reference_pytorch.py</c>) reads to run the same workload. Written as bench.json and bench.md.</summary>
public sealed class BenchReport
{
    private readonly List<BenchEntry> _entries = new();

    public IReadOnlyList<BenchEntry> Entries => _entries;
    public Dictionary<string, object> Spec { get; } = new();

    public void Add(BenchEntry e)
    {
        if (_entries.Any(x => x.Key == e.Key)) throw new InvalidOperationException($"bench key {e.Key} measured twice");
        _entries.Add(e);
    }

    public void AddRange(IEnumerable<BenchEntry> es) { foreach (var e in es) Add(e); }

    public BenchEntry? Find(string key) => _entries.FirstOrDefault(e => e.Key == key);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>bench.json: <c>{ created_utc, cores, threads, spec, results: [ {key, name, unit, median, min, max, runs} ] }</c>.</summary>
    public string ToJson(int threads) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["created_utc"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        ["cores"] = Environment.ProcessorCount,
        ["threads"] = threads,
        ["load_average"] = LoadAverage(),
        ["spec"] = Spec,
        ["results"] = _entries,
    }, JsonOptions);

    /// <summary>The 1-minute load average when written (/proc/loadavg; NaN elsewhere): on a shared machine, a load
    /// above the core count means other processes competed for the cores during the timing.</summary>
    public static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
    }

    /// <summary>bench.md: one table row per entry.</summary>
    public string ToMarkdown(int threads)
    {
        var md = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"# pafas bench ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, threads {threads}, load average {LoadAverage():F1})\n\n"));
        md.Append("| key | measure | unit | median | min | max |\n|---|---|---|---:|---:|---:|\n");
        foreach (var e in _entries)
            md.Append(string.Create(CultureInfo.InvariantCulture, $"| {e.Key} | {e.Name} | {e.Unit} | {Fmt(e.Median)} | {Fmt(e.Min)} | {Fmt(e.Max)} |\n"));
        return md.ToString();
    }

    private static string Fmt(double v) => Math.Abs(v) >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 1 ? v.ToString("F2", CultureInfo.InvariantCulture) : v.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Writes bench.json and bench.md into <paramref name="dir"/>.</summary>
    public void Write(string dir, int threads)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, "bench.json"), ToJson(threads));
        AtomicFile.WriteAllText(Path.Combine(dir, "bench.md"), ToMarkdown(threads));
    }
}
