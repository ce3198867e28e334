using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.IO;

namespace PaFas.Host.Data;

/// <summary>How to read a manifest. All properties are optional.</summary>
public sealed record ManifestOptions
{
    /// <summary>Folder that relative image paths are resolved against (default: the manifest's folder).</summary>
    public string Root { get; init; } = "";
    /// <summary>Domain of every sample of a list file, or the default for JSONL lines without one.</summary>
    public string Domain { get; init; } = "";
    /// <summary>Attack (a taxonomy leaf or an <see cref="AttackMap"/> key) of every spoof line of a list file.</summary>
    public string Attack { get; init; } = "";
    /// <summary>Regex over a list-file line's first path; group "attack" (or group 1) names the attack.</summary>
    public string AttackPattern { get; init; } = "";
    /// <summary>Regex over a list-file line's first path; group "domain" (or group 1) names the domain.</summary>
    public string DomainPattern { get; init; } = "";
    /// <summary>Dataset attack names -> taxonomy leaves (case-insensitive); default <see cref="SampleLabelModule.defaultAttackMap"/>; the core interprets labels (<see cref="SampleLabelModule.interpret"/>).</summary>
    public IReadOnlyDictionary<string, string>? AttackMap { get; init; }
    /// <summary>Skip malformed lines (reported by <see cref="Manifest.LoadWithReport"/>) instead of failing.</summary>
    public bool SkipBad { get; init; }
    /// <summary>Check that every image exists and is a structurally sound PNG/JPEG, and the slot rules that need
    /// only headers (<see cref="ImageLoader.CheckHeaders"/>: a colour file in the RGB slot, agreeing aspect ratios).</summary>
    public bool CheckFiles { get; init; }
    /// <summary>Force the format ("jsonl" or "list"); empty = by extension, then by content.</summary>
    public string Format { get; init; } = "";
    /// <summary>Grammar whose taxonomy and cue vocabulary validate labels and cues (default GrammarStore.Default).</summary>
    public Grammar? Grammar { get; init; }
}

/// <summary>A line skipped in SkipBad mode: where, and why.</summary>
public sealed record SkippedLine(string File, int Line, string Reason)
{
    public override string ToString() => $"{File}:{Line}: {Reason}";
}

/// <summary>Samples read plus the lines skipped (empty unless SkipBad).</summary>
public sealed record ManifestLoad(IReadOnlyList<SampleRecord> Samples, IReadOnlyList<SkippedLine> Skipped);

/// <summary>Reads JSONL manifests and MMDG / CASIA-SURF list files into <see cref="SampleRecord"/>s, validating
/// labels against the taxonomy; every error names file:line. Writes JSONL manifests.</summary>
public static class Manifest
{
    /// <summary>Loads a manifest; fails on the first bad line (or skips bad lines in SkipBad mode).</summary>
    public static IReadOnlyList<SampleRecord> Load(string path, ManifestOptions? o = null) => LoadWithReport(path, o).Samples;

    /// <summary>Loads a manifest and reports the lines skipped in SkipBad mode.</summary>
    public static ManifestLoad LoadWithReport(string path, ManifestOptions? o = null)
    {
        o ??= new ManifestOptions();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: manifest not found", path);
        var g = o.Grammar ?? GrammarStore.Default;
        var lines = TextLimits.ReadLines(path).ToArray(); // \n and \r\n; bounded line length and file size
        var root = o.Root != "" ? o.Root : Path.GetDirectoryName(Path.GetFullPath(path))!;
        bool jsonl = IsJsonl(path, lines, o.Format);
        var ctx = new Ctx(path, root, o, g);
        var samples = new List<SampleRecord>();
        var skipped = new List<SkippedLine>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim().TrimStart('\uFEFF');
            if (line.Length == 0 || line.StartsWith('#')) continue;
            try
            {
                var s = jsonl ? ParseJson(line, i + 1, ctx) : ParseList(line, i + 1, ctx);
                if (!ids.Add(s.Id)) throw new LineException($"duplicate sample id '{s.Id}'");
                if (o.CheckFiles)
                {
                    try { ImageLoader.CheckHeaders(s.Id, s.Rgb, s.Depth, s.Ir); }
                    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { throw new LineException(e.Message); }
                }
                samples.Add(s);
            }
            catch (LineException e)
            {
                if (!o.SkipBad) throw new InvalidDataException($"{path}:{i + 1}: {e.Message}");
                skipped.Add(new SkippedLine(path, i + 1, e.Message));
            }
        }
        if (samples.Count == 0 && skipped.Count == 0) throw new InvalidDataException($"{path}: the manifest has no samples");
        return new ManifestLoad(samples, skipped);
    }

    private static bool IsJsonl(string path, string[] lines, string format)
    {
        if (format.Equals("jsonl", StringComparison.OrdinalIgnoreCase)) return true;
        if (format.Equals("list", StringComparison.OrdinalIgnoreCase)) return false;
        if (format != "") throw new ArgumentException($"manifest format must be 'jsonl' or 'list', got '{format}'");
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".jsonl" or ".json" or ".ndjson") return true;
        if (ext is ".txt" or ".lst" or ".list") return false;
        var first = lines.Select(l => l.Trim().TrimStart('\uFEFF')).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'));
        return first != null && first.StartsWith('{');
    }

    private sealed class LineException(string message) : Exception(message);

    private sealed record Ctx(string File, string Root, ManifestOptions O, Grammar G)
    {
        public readonly Regex? AttackRx = O.AttackPattern == "" ? null : new Regex(O.AttackPattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        public readonly FSharpMap<string, string> AttackMap = O.AttackMap == null ? SampleLabelModule.defaultAttackMap
            : MapModule.OfSeq(O.AttackMap.Select(kv => Tuple.Create(kv.Key, kv.Value)));
        public readonly Regex? DomainRx = O.DomainPattern == "" ? null : new Regex(O.DomainPattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        public readonly HashSet<string> Vocabulary = G.Templates.Cues.Select(kv => kv.Key.ToString()).ToHashSet(StringComparer.Ordinal);
    }

    private static string? ResolvePath(string? p, Ctx c)
    {
        if (p == null) return null;
        p = p.Trim();
        if (p == "" || p == "-" || p.Equals("null", StringComparison.OrdinalIgnoreCase) || p.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        if (p.IndexOfAny(Path.GetInvalidPathChars()) >= 0) throw new LineException($"invalid path '{p}'");
        return Path.GetFullPath(Path.IsPathRooted(p) ? p : Path.Combine(c.Root, p.Replace('\\', '/')));
    }

    private static string Group(Regex? rx, string? text)
    {
        if (rx == null || text == null) return "";
        var m = rx.Match(text);
        if (!m.Success) return "";
        var named = m.Groups.Keys.Where(k => k is "attack" or "domain").Select(k => m.Groups[k]).FirstOrDefault(x => x.Success);
        return (named ?? (m.Groups.Count > 1 ? m.Groups[1] : m.Groups[0])).Value;
    }

    private static SampleRecord ParseList(string line, int lineNo, Ctx c)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 4 && parts.Length != 2 && parts.Length != 5)
            throw new LineException($"expected 'rgb depth ir label' (or 'rgb label', or 'rgb depth ir label domain'), got {parts.Length} fields");
        string column = "";
        if (parts.Length == 5) { column = parts[4]; parts = parts[..4]; }
        var lab = parts[^1];
        if (lab != "0" && lab != "1") throw new LineException($"label must be 1 (live) or 0 (spoof), got '{lab}'");
        string? rgbRaw = parts[0], depthRaw = parts.Length == 4 ? parts[1] : null, irRaw = parts.Length == 4 ? parts[2] : null;
        var rgb = ResolvePath(rgbRaw, c); var depth = ResolvePath(depthRaw, c); var ir = ResolvePath(irRaw, c);
        if (rgb == null && depth == null && ir == null) throw new LineException("no image path");
        var firstRaw = new[] { rgbRaw, depthRaw, irRaw }.First(p => ResolvePath(p, c) != null)!;
        var id = Path.ChangeExtension(firstRaw.Replace('\\', '/'), null)!.TrimStart('.', '/');
        var domain = column != "" ? column : c.O.Domain != "" ? c.O.Domain : Group(c.DomainRx, firstRaw);
        // a spoof of an attack the taxonomy does not name keeps ['Spoof Face']: no chain, eval per raw name
        var raw = lab == "1" ? "" : c.O.Attack != "" ? c.O.Attack : Group(c.AttackRx, firstRaw);
        var (label, attack) = Interpret(LabelInput.NewIsLive(lab == "1"), raw, c);
        return new SampleRecord(id, rgb, depth, ir, label, attack, domain, null, $"{c.File}:{lineNo}");
    }

    private static string? Str(JsonElement r, string name)
    {
        if (!r.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new LineException($"field '{name}' must be a string or null");
        return v.GetString();
    }

    private static SampleRecord ParseJson(string line, int lineNo, Ctx c)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new LineException($"malformed JSON ({e.Message})"); }
        using (doc)
        {
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) throw new LineException("a manifest line must be a JSON object");
            var id = Str(r, "id");
            if (string.IsNullOrWhiteSpace(id)) throw new LineException("missing 'id'");
            var rgb = ResolvePath(Str(r, "rgb"), c); var depth = ResolvePath(Str(r, "depth"), c); var ir = ResolvePath(Str(r, "ir"), c);
            if (rgb == null && depth == null && ir == null) throw new LineException($"sample '{id}' has no image of any modality");
            var attackRaw = Str(r, "attack") ?? "";
            var (label, attack) = LabelOf(r, attackRaw, c);
            var domain = Str(r, "domain") ?? c.O.Domain;
            IReadOnlyList<string>? cues = null;
            if (r.TryGetProperty("cues", out var cv) && cv.ValueKind != JsonValueKind.Null)
            {
                if (cv.ValueKind != JsonValueKind.Array) throw new LineException("'cues' must be an array of \"modality:key\" strings");
                var list = new List<string>();
                foreach (var x in cv.EnumerateArray())
                {
                    var cue = x.ValueKind == JsonValueKind.String ? CueModule.tryParse(x.GetString()) : null;
                    if (cue == null) throw new LineException($"cue {x.GetRawText()} is not of the form modality:key");
                    var text = cue.Value.ToString();
                    if (!c.Vocabulary.Contains(text)) throw new LineException($"unknown cue '{text}' (not in templates.json)");
                    if (!AvailabilityModule.has(cue.Value.Modality, AvailabilityModule.ofPresence(rgb != null, depth != null, ir != null).ResultValue)) throw new LineException($"cue '{text}' names a modality the sample does not have");
                    if (!list.Contains(text)) list.Add(text);
                }
                cues = list;
            }
            return new SampleRecord(id!, rgb, depth, ir, label, attack, domain, cues, $"{c.File}:{lineNo}");
        }
    }

    private static (IReadOnlyList<string> Label, string Attack) LabelOf(JsonElement r, string attackRaw, Ctx c)
    {
        if (!r.TryGetProperty("label", out var lv) || lv.ValueKind == JsonValueKind.Null) throw new LineException("missing 'label'");
        LabelInput input;
        if (lv.ValueKind == JsonValueKind.Array)
        {
            var bad = lv.EnumerateArray().FirstOrDefault(x => x.ValueKind != JsonValueKind.String);
            if (bad.ValueKind != JsonValueKind.Undefined) throw new LineException($"unknown label node {bad.GetRawText()}");
            input = LabelInput.NewNames(ListModule.OfSeq(lv.EnumerateArray().Select(x => x.GetString()!)));
        }
        else if (lv.ValueKind == JsonValueKind.Number && lv.TryGetInt32(out var n) && (n == 0 || n == 1)) input = LabelInput.NewIsLive(n == 1);
        else if (lv.ValueKind == JsonValueKind.String) input = LabelInput.NewName(lv.GetString()!);
        else throw new LineException("'label' must be a taxonomy path, a leaf name, \"live\" or \"spoof\"");
        return Interpret(input, attackRaw, c);
    }

    /// <summary>The core's label interpretation; its error becomes the line's.</summary>
    private static (IReadOnlyList<string> Label, string Attack) Interpret(LabelInput input, string attackRaw, Ctx c)
    {
        var r = SampleLabelModule.interpret(c.G.Taxonomy, c.AttackMap, attackRaw, input);
        if (r.IsError) throw new LineException(r.ErrorValue);
        return (SampleLabelModule.names(r.ResultValue).ToArray(), SampleLabelModule.attack(r.ResultValue));
    }

    /// <summary>Writes samples as JSONL (atomically). Image paths under the manifest's folder are written
    /// relative to it, so the folder can be moved.</summary>
    public static void WriteJsonl(string path, IEnumerable<SampleRecord> samples)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? Rel(string? p)
        {
            if (p == null) return null;
            var full = Path.GetFullPath(p);
            var rel = Path.GetRelativePath(dir, full);
            return (rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(rel) ? full : rel).Replace('\\', '/');
        }
        var sb = new StringBuilder();
        foreach (var s in samples) sb.Append(ToJson(s, Rel)).Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>One manifest line (paths as given unless a mapping is passed).</summary>
    public static string ToJson(SampleRecord s, Func<string?, string?>? path = null)
    {
        path ??= p => p;
        var obj = new Dictionary<string, object?>
        {
            ["id"] = s.Id, ["rgb"] = path(s.Rgb), ["depth"] = path(s.Depth), ["ir"] = path(s.Ir),
            ["label"] = s.Label, ["attack"] = s.Attack, ["domain"] = s.Domain,
        };
        if (s.Cues != null) obj["cues"] = s.Cues;
        return JsonSerializer.Serialize(obj);
    }
}
