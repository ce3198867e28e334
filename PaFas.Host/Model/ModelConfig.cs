using System.Text.Json;
using System.Text.Json.Serialization;

namespace PaFas.Host.Model;

/// <summary>The shape of a PA-FAS vision-language model. Presets live in data/models.json
/// (<see cref="Preset(string, string)"/>); a checkpoint stores its config as config.json.</summary>
public sealed record ModelConfig
{
    /// <summary>Preset name (informational).</summary>
    public string Name { get; init; } = "custom";
    /// <summary>Side of the square images of every modality (the loader resizes to it).</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>Side of a patch; each modality gives (ImageSize/PatchSize)^2 visual tokens.</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>Width of the vision encoder.</summary>
    public int VisionDim { get; init; } = 128;
    /// <summary>Bidirectional transformer blocks over all visual tokens (0 = patch embeddings only).</summary>
    public int VisionLayers { get; init; } = 2;
    public int VisionHeads { get; init; } = 4;
    public int VisionMlpHidden { get; init; } = 256;
    /// <summary>Learned tokens that stand for a missing modality (tiled over its patch slots).</summary>
    public int AbsentTokens { get; init; } = 4;
    /// <summary>Width of the language model.</summary>
    public int Dim { get; init; } = 192;
    public int Layers { get; init; } = 4;
    public int Heads { get; init; } = 6;
    /// <summary>Key/value heads (grouped-query attention); Heads must be a multiple.</summary>
    public int KvHeads { get; init; } = 2;
    /// <summary>Hidden width of the SwiGLU MLP.</summary>
    public int MlpHidden { get; init; } = 512;
    /// <summary>Maximum sequence length: visual tokens + prompt + completion.</summary>
    public int MaxSeq { get; init; } = 512;
    public double RopeTheta { get; init; } = 10000.0;
    public double NormEps { get; init; } = 1e-6;
    /// <summary>Whether the output head shares the token embedding matrix.</summary>
    public bool TieEmbeddings { get; init; } = true;

    /// <summary>Patches per modality.</summary>
    [JsonIgnore] public int PatchesPerModality => (ImageSize / PatchSize) * (ImageSize / PatchSize);
    /// <summary>Length of the visual prefix (3 modalities).</summary>
    [JsonIgnore] public int VisualTokens => 3 * PatchesPerModality;
    [JsonIgnore] public int HeadDim => Dim / Heads;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        WriteIndented = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming every inconsistent field.</summary>
    public ModelConfig Validate()
    {
        var e = new List<string>();
        void Pos(string n, int v) { if (v <= 0) e.Add($"{n} must be positive (got {v})"); }
        Pos(nameof(ImageSize), ImageSize); Pos(nameof(PatchSize), PatchSize); Pos(nameof(VisionDim), VisionDim);
        Pos(nameof(VisionHeads), VisionHeads); Pos(nameof(VisionMlpHidden), VisionMlpHidden); Pos(nameof(AbsentTokens), AbsentTokens);
        Pos(nameof(Dim), Dim); Pos(nameof(Layers), Layers); Pos(nameof(Heads), Heads); Pos(nameof(KvHeads), KvHeads);
        Pos(nameof(MlpHidden), MlpHidden); Pos(nameof(MaxSeq), MaxSeq);
        if (VisionLayers < 0) e.Add($"VisionLayers must be >= 0 (got {VisionLayers})");
        if (e.Count == 0)
        {
            if (ImageSize % PatchSize != 0) e.Add($"ImageSize ({ImageSize}) must be a multiple of PatchSize ({PatchSize})");
            if (Dim % Heads != 0) e.Add($"Dim ({Dim}) must be a multiple of Heads ({Heads})");
            else if ((Dim / Heads) % 2 != 0) e.Add($"the head dimension Dim/Heads ({Dim / Heads}) must be even for rotary embeddings");
            if (Heads % KvHeads != 0) e.Add($"Heads ({Heads}) must be a multiple of KvHeads ({KvHeads})");
            if (VisionDim % VisionHeads != 0) e.Add($"VisionDim ({VisionDim}) must be a multiple of VisionHeads ({VisionHeads})");
            if (AbsentTokens > PatchesPerModality && ImageSize % PatchSize == 0)
                e.Add($"AbsentTokens ({AbsentTokens}) must not exceed the patches per modality ({PatchesPerModality})");
            if (ImageSize % PatchSize == 0 && MaxSeq < VisualTokens + 16)
                e.Add($"MaxSeq ({MaxSeq}) must leave room for text after the {VisualTokens} visual tokens");
        }
        if (!(RopeTheta > 0)) e.Add($"RopeTheta must be positive (got {RopeTheta})");
        if (!(NormEps > 0)) e.Add($"NormEps must be positive (got {NormEps})");
        if (e.Count > 0) throw new ArgumentException($"model config '{Name}': " + string.Join("; ", e));
        return this;
    }

    /// <summary>The config as JSON (the checkpoint's config.json).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a config written by <see cref="ToJson"/>; <paramref name="source"/> names the file in errors.</summary>
    public static ModelConfig FromJson(string json, string source = "config")
    {
        ModelConfig? c;
        try { c = JsonSerializer.Deserialize<ModelConfig>(json, Json); }
        catch (JsonException ex) { throw new InvalidDataException($"{source}: malformed model config: {ex.Message}", ex); }
        if (c == null) throw new InvalidDataException($"{source}: empty model config");
        try { return c.Validate(); }
        catch (ArgumentException ex) { throw new InvalidDataException($"{source}: {ex.Message}", ex); }
    }

    /// <summary>The names of the presets of the models.json in <paramref name="dataDir"/>.</summary>
    public static IReadOnlyList<string> PresetNames(string dataDir) => ReadPresets(dataDir).Presets.Keys.ToList();

    /// <summary>The default preset's name ("default" of the models.json in <paramref name="dataDir"/>).</summary>
    public static string DefaultPresetName(string dataDir) => ReadPresets(dataDir).Default;

    /// <summary>A preset of the models.json in <paramref name="dataDir"/> (the program's data folder is
    /// <c>GrammarStore.DefaultDataDir()</c>), validated.</summary>
    public static ModelConfig Preset(string name, string dataDir)
    {
        var (file, presets, def) = ReadPresets(dataDir);
        var key = string.IsNullOrWhiteSpace(name) ? def : name.Trim().ToLowerInvariant();
        if (!presets.TryGetValue(key, out var el))
            throw new ArgumentException($"{file}: no model preset '{name}' (presets: {string.Join(", ", presets.Keys)})");
        ModelConfig? c;
        try { c = el.Deserialize<ModelConfig>(Json); }
        catch (JsonException ex) { throw new InvalidDataException($"{file}: preset '{key}': {ex.Message}", ex); }
        if (c == null) throw new InvalidDataException($"{file}: preset '{key}' is empty");
        c = c with { Name = key };
        try { return c.Validate(); }
        catch (ArgumentException ex) { throw new InvalidDataException($"{file}: {ex.Message}", ex); }
    }

    private static (string File, Dictionary<string, JsonElement> Presets, string Default) ReadPresets(string dataDir)
    {
        var file = Path.Combine(dataDir, "models.json");
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: not found", file);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = doc.RootElement;
            if (!root.TryGetProperty("presets", out var p) || p.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{file}: missing object 'presets'");
            var dict = p.EnumerateObject().ToDictionary(o => o.Name.ToLowerInvariant(), o => o.Value.Clone());
            var def = root.TryGetProperty("default", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "small";
            return (file, dict, def);
        }
        catch (JsonException ex) { throw new InvalidDataException($"{file}: malformed JSON: {ex.Message}", ex); }
    }
}
