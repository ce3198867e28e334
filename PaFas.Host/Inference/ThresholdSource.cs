using System.Text.Json;

namespace PaFas.Host.Inference;

/// <summary>The decision threshold predict uses, and where it came from (said on every run).</summary>
/// <param name="Value">The live-score threshold in [0, 1].</param>
/// <param name="From">Where it came from: "--threshold", a threshold.json file, or the default's reason.</param>
public sealed record ThresholdChoice(double Value, string From)
{
    public const double Default = 0.5;
    public const string FileName = "threshold.json";

    /// <summary>In order: an explicit value; <paramref name="from"/> (an eval output folder or its threshold.json,
    /// which must exist); the threshold.json of the model folder as given, then of its checkpoint folder
    /// <paramref name="checkpoint"/>; else <see cref="Default"/>.</summary>
    public static ThresholdChoice Resolve(string model, string checkpoint, double? value = null, string from = "")
    {
        if (value is { } v) return new ThresholdChoice(v, "--threshold");
        if (!string.IsNullOrEmpty(from))
        {
            var f = Directory.Exists(from) ? Path.Combine(from, FileName) : from;
            if (!File.Exists(f))
                throw new FileNotFoundException($"--threshold-from {from}: no {FileName} there (give an eval output folder or its {FileName})", f);
            return new ThresholdChoice(Read(f), f);
        }
        foreach (var dir in new[] { model, checkpoint })
        {
            var f = Path.Combine(dir, FileName);
            if (File.Exists(f)) return new ThresholdChoice(Read(f), f);
        }
        return new ThresholdChoice(Default, $"the default {Default}: no {FileName} in {model}; pass --threshold-from an eval output folder");
    }

    /// <summary>The "threshold" of a threshold.json, which must be a number in [0, 1].</summary>
    public static double Read(string file)
    {
        try
        {
            using var doc = JsonDocument.Parse(string.Join("\n", PaFas.Host.IO.TextLimits.ReadLines(file)));
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("threshold", out var t)
                && t.ValueKind == JsonValueKind.Number && t.GetDouble() is var x && x >= 0 && x <= 1)
                return x;
            throw new InvalidDataException($"{file}: expected {{\"threshold\": <number in [0, 1]>}}");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: malformed JSON ({e.Message})", e);
        }
    }
}
