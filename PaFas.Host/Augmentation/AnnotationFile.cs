using System.Text.Json;
using PaFas.Core;
using PaFas.Host.Data;

namespace PaFas.Host.Augmentation;

/// <summary>An annotations file as read against a manifest: the cues per sample id, the ids that match no sample
/// (with the line of their first occurrence), and how many of the manifest's samples it does not annotate.</summary>
public sealed record AnnotationLoad(string File, Dictionary<string, string[]> Cues, IReadOnlyList<(string Id, int Line)> UnknownIds, int Unannotated)
{
    /// <summary>Warnings for the log: ids the manifest lacks, samples without annotation.</summary>
    public IEnumerable<string> Warnings()
    {
        if (UnknownIds.Count > 0)
            yield return $"{File}: {UnknownIds.Count} {(UnknownIds.Count > 1 ? "ids match" : "id matches")} no sample of the manifest and are ignored: " +
                string.Join(", ", UnknownIds.Take(5).Select(u => $"'{u.Id}' (line {u.Line})")) + (UnknownIds.Count > 5 ? ", ..." : "");
        if (Unannotated > 0)
            yield return $"{File}: {Unannotated} samples of the manifest have no line here; their chains cite no cue";
    }
}

/// <summary>Reads and validates <c>{"id": ..., "cues": [...]}</c> lines (the annotator's output, or clauses from a
/// large VLM or from people) as strictly as manifests: every bad line is an error naming file:line (not JSON, no
/// string id, a duplicate id, no <c>cues</c> array, a cue that is not <c>modality:key</c> or not in the templates'
/// vocabulary, a cue of a modality the sample does not have); ids that match no sample are reported, and a file
/// none of whose ids matches is refused.</summary>
public static class AnnotationFile
{
    public static AnnotationLoad Load(string path, IReadOnlyList<SampleRecord> samples, Grammar grammar)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: annotation file not found", path);
        var vocabulary = grammar.Templates.Cues.Select(kv => kv.Key.ToString()).ToHashSet(StringComparer.Ordinal);
        var byId = samples.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var cues = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var unknown = new List<(string, int)>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim().TrimStart('\uFEFF');
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string Where() => $"{path}:{lineNo}";
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new InvalidDataException($"{Where()}: malformed JSON ({e.Message})"); }
            using (doc)
            {
                var r = doc.RootElement;
                if (r.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{Where()}: an annotation line must be a JSON object {{\"id\", \"cues\"}}");
                if (!r.TryGetProperty("id", out var idv) || idv.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(idv.GetString()))
                    throw new InvalidDataException($"{Where()}: missing 'id' (a non-empty string)");
                var id = idv.GetString()!;
                if (lineOf.TryGetValue(id, out var first)) throw new InvalidDataException($"{Where()}: duplicate id '{id}' (first on line {first})");
                lineOf[id] = lineNo;
                if (!r.TryGetProperty("cues", out var cv) || cv.ValueKind == JsonValueKind.Null)
                    throw new InvalidDataException($"{Where()}: sample '{id}' has no 'cues' (an array of \"modality:key\" strings; [] for none)");
                if (cv.ValueKind != JsonValueKind.Array)
                    throw new InvalidDataException($"{Where()}: 'cues' of sample '{id}' must be an array of \"modality:key\" strings, got {cv.ValueKind.ToString().ToLowerInvariant()} {Short(cv.GetRawText())}");
                byId.TryGetValue(id, out var sample);
                var list = new List<string>();
                foreach (var x in cv.EnumerateArray())
                {
                    var cue = x.ValueKind == JsonValueKind.String ? CueModule.tryParse(x.GetString()) : null;
                    if (cue == null) throw new InvalidDataException($"{Where()}: cue {Short(x.GetRawText())} of sample '{id}' is not of the form modality:key (e.g. \"depth:flat\")");
                    var text = cue.Value.ToString();
                    if (!vocabulary.Contains(text))
                        throw new InvalidDataException($"{Where()}: unknown cue '{text}' of sample '{id}' (the templates know: {string.Join(", ", vocabulary.OrderBy(v => v, StringComparer.Ordinal))})");
                    var m = cue.Value.Modality;
                    if (sample != null && sample.PathOf(m) == null)
                        throw new InvalidDataException($"{Where()}: cue '{text}' names a modality sample '{id}' does not have ({sample.Source})");
                    if (!list.Contains(text)) list.Add(text);
                }
                if (sample == null) unknown.Add((id, lineNo));
                else cues[id] = list.ToArray();
            }
        }
        if (lineOf.Count == 0) throw new InvalidDataException($"{path}: the annotation file has no lines");
        if (cues.Count == 0)
            throw new InvalidDataException($"{path}: none of its {lineOf.Count} ids matches a sample of the manifest " +
                $"(first: '{unknown[0].Item1}' on line {unknown[0].Item2}; the manifest's ids look like '{samples[0].Id}'): annotations of another manifest?");
        return new AnnotationLoad(path, cues, unknown, samples.Count(s => !cues.ContainsKey(s.Id)));
    }

    private static string Short(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
