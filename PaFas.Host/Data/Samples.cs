using PaFas.Core;

namespace PaFas.Host.Data;

/// <summary>One sample of a manifest (JSONL or list file): image paths (null when the modality is absent),
/// its taxonomy label, attack leaf, domain and optional cue annotation. <see cref="Source"/> names the file
/// and line it came from, for error messages.</summary>
public sealed record SampleRecord(
    string Id,
    string? Rgb,
    string? Depth,
    string? Ir,
    IReadOnlyList<string> Label,
    string Attack,
    string Domain,
    IReadOnlyList<string>? Cues,
    string Source)
{
    /// <summary>The label as the core's validated type: a full taxonomy path, or a spoof of an attack the taxonomy
    /// does not name. Manifest readers only produce labels that read back; a hand-built record with another label
    /// is an error naming its source.</summary>
    public SampleLabel Truth
    {
        get
        {
            var r = SampleLabelModule.ofNames(GrammarStore.Default.Taxonomy, Label, Attack);
            if (r.IsError) throw new InvalidDataException($"{Source}: {r.ErrorValue}");
            return r.ResultValue;
        }
    }

    /// <summary>True when the first label is 'Real Face'.</summary>
    public bool IsLive => Label.Count > 0 && Label[0] == TaxonomyModule.LiveName;

    /// <summary>The modalities the sample has (the core's <see cref="AvailabilityModule.ofPresence"/>); an error for a
    /// record without any image, which no manifest reader produces.</summary>
    public Availability Availability
    {
        get
        {
            var r = AvailabilityModule.ofPresence(Rgb != null, Depth != null, Ir != null);
            if (r.IsError) throw new InvalidDataException($"{Source}: {r.ErrorValue}");
            return r.ResultValue;
        }
    }

    /// <summary>The path of a modality's image, or null when absent.</summary>
    public string? PathOf(Modality m) => m.IsRgb ? Rgb : m.IsDepth ? Depth : Ir;
}
