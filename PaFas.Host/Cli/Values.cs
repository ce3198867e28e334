using System.Globalization;
using Microsoft.FSharp.Core;
using PaFas.Core;
using PaFas.Host.Augmentation;
using PaFas.Host.Training;

namespace PaFas.Host.Cli;

/// <summary>How the text of a flag becomes a typed value and back: numbers (invariant culture), words, comma lists,
/// the dropped modalities (the core's <see cref="Protocols.parseDrop"/>), and the enumerations, each read by its
/// one parser here at the edge. <see cref="Choices"/> lists the words of an enumeration for the help text.</summary>
public static class Values
{
    private sealed record Kind(Func<string, object> Parse, Func<object?, string> Show, IReadOnlyList<string>? Choices = null);

    private static Kind Union<T>(Func<string, FSharpResult<T, string>> parse, Func<T, string> show, params T[] cases) =>
        new(s => parse(s) is { IsOk: true } r ? r.ResultValue! : throw new FormatException(parse(s).ErrorValue),
            v => show((T)v!), cases.Select(show).ToArray());

    private static Kind Enum<T>() where T : struct, System.Enum =>
        new(s => System.Enum.TryParse<T>(s, ignoreCase: true, out var v) && System.Enum.IsDefined(v) && !s.Any(char.IsDigit)
                ? v : throw new FormatException($"must be one of {string.Join(" | ", Names<T>())} (got '{s}')"),
            v => v!.ToString()!.ToLowerInvariant(), Names<T>());

    private static string[] Names<T>() where T : struct, System.Enum =>
        System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();

    private static readonly Dictionary<Type, Kind> Kinds = new()
    {
        [typeof(int)] = new(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"needs a whole number (got '{s}')"), v => ((int)v!).ToString(CultureInfo.InvariantCulture)),
        [typeof(double)] = new(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"needs a number (got '{s}')"), v => ((double)v!).ToString("G", CultureInfo.InvariantCulture)),
        [typeof(bool)] = new(s => s.ToLowerInvariant() switch
        {
            "true" => true, "false" => false, _ => throw new FormatException($"must be true or false (got '{s}')"),
        }, v => (bool)v! ? "true" : "false"),
        [typeof(string)] = new(s => s.Trim(), v => (string?)v ?? ""),
        [typeof(IReadOnlyList<string>)] = new(CommaList, v => string.Join(",", (IReadOnlyList<string>)v!)),
        [typeof(IReadOnlyList<Modality>)] = new(s => Protocols.parseDrop(s) is { IsOk: true } r
                ? r.ResultValue.ToArray() : throw new FormatException(Protocols.parseDrop(s).ErrorValue),
            v => ((IReadOnlyList<Modality>)v!).Count == 0 ? "none" : string.Join(",", ((IReadOnlyList<Modality>)v!).Select(ModalityModule.key))),
        [typeof(ShuffleMode)] = Union<ShuffleMode>(Shuffle.parseMode, Shuffle.toText, ShuffleMode.AnswerShuffle, ShuffleMode.PathShuffle, ShuffleMode.NoShuffle),
        [typeof(ClassMode)] = Union<ClassMode>(Rewards.parseMode, Rewards.modeText, ClassMode.ExactLeaf, ClassMode.Binary, ClassMode.Hierarchical),
        [typeof(AdvantageScale)] = Union<AdvantageScale>(Grpo.parseScale, Grpo.scaleText, AdvantageScale.GroupScale, AdvantageScale.BatchScale, AdvantageScale.NoScale),
        [typeof(LossAggregation)] = Union<LossAggregation>(Grpo.parseAggregation, Grpo.aggregationText, LossAggregation.GrpoAgg, LossAggregation.Bnpo, LossAggregation.DrGrpo, LossAggregation.Dapo),
        [typeof(Protocol)] = new(s => Protocols.tryFind(s) is { } p ? p.Value
                : throw new FormatException($"names no protocol: '{s}' (known: {string.Join(", ", Protocols.all.Select(x => x.Name))}, or the arrow form CPS->W)"),
            v => v is Protocol p ? p.Name : ""),
        [typeof(ScheduleKind)] = Enum<ScheduleKind>(),
        [typeof(AugmentMode)] = Enum<AugmentMode>(),
    };

    /// <summary>Comma-separated names, trimmed, without empty parts or repeats.</summary>
    private static object CommaList(string s)
    {
        var parts = s.Split(',').Select(p => p.Trim()).ToArray();
        if (parts.Any(p => p == "")) throw new FormatException($"must be comma-separated names, e.g. C,P,S (got '{s}')");
        return (IReadOnlyList<string>)parts.Distinct().ToArray();
    }

    private static Kind Of(Type t)
    {
        var u = Nullable.GetUnderlyingType(t);
        if (u != null)
        {
            var k = Of(u);
            return new(s => k.Parse(s), v => v == null ? "" : k.Show(v), k.Choices);
        }
        return Kinds.TryGetValue(t, out var kind) ? kind
            : throw new InvalidOperationException($"no command-line reading for options of type {t.Name}");
    }

    /// <summary>Reads a flag's text as a value of <paramref name="t"/>; a <see cref="FormatException"/> says why not.</summary>
    public static object Parse(Type t, string text) => Of(t).Parse(text ?? "");

    /// <summary>The text that <see cref="Parse"/> reads back as <paramref name="value"/>.</summary>
    public static string Show(Type t, object? value) => Of(t).Show(value);

    /// <summary>The words an enumerated option takes, or null.</summary>
    public static IReadOnlyList<string>? Choices(Type t) => Of(t).Choices;

    /// <summary>Whether a type is a switch (a flag without a value).</summary>
    public static bool IsSwitch(Type t) => t == typeof(bool);

    /// <summary>Value-equality of two option values (lists by their items).</summary>
    public static bool Same(Type t, object? a, object? b) => Show(t, a) == Show(t, b);
}
