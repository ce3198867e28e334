using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Interop;

/// <summary>One line of a completions file: the sample id, the text a model wrote, where it came from
/// (file:line) and the truth label when the line carries one itself.</summary>
public sealed record CompletionLine(string Id, string Text, string Source, IReadOnlyList<string>? Truth);

/// <summary>A scored completion. <see cref="Failure"/> is "" when the format reward is 1, else the first reason
/// it is 0 (<see cref="Judge.failureKind"/>). <see cref="LiveScore"/> comes from the parsed answer: 1 'Real Face', 0 a spoof answer, 0.5 unparsable.</summary>
public sealed record ScoredCompletion(
    CompletionLine Line, RewardBreakdown Reward, string Failure, string FailureDetail, IReadOnlyList<string>? Answer,
    double LiveScore, IReadOnlyList<string>? Truth, string Attack, string Domain, Judgement Judgement);

/// <summary>Rewards, format failures and FAS metrics of a completions file.</summary>
public sealed record CompletionReport(
    IReadOnlyList<ScoredCompletion> Rows, RewardConfig Config, int WithTruth, int Unparsable,
    IReadOnlyDictionary<string, int> Failures, FasReport? Fas, string FasNote)
{
    public double MeanFormat => Rows.Count == 0 ? double.NaN : Rows.Average(r => r.Reward.Format);
    /// <summary>Mean classification reward over the completions whose truth is known (NaN when none).</summary>
    public double MeanClassification => WithTruth == 0 ? double.NaN : Rows.Where(r => r.Truth != null).Average(r => r.Reward.Classification);
    public double MeanTotal => WithTruth == 0 ? double.NaN : Rows.Where(r => r.Truth != null).Average(r => r.Reward.Total);
    public double FormatFailureRate => Rows.Count == 0 ? double.NaN : Rows.Count(r => r.Failure != "") / (double)Rows.Count;
}

/// <summary><c>pafas score --completions</c>: scores completions written by any model (one JSON object a line,
/// id in "sample_id" or "id", text in "text", "completion" or "response" — a string or a list of chat messages
/// whose last "content" is taken) with the training rewards (<see cref="Rewards.score"/>) and, when live/spoof
/// truth is known, the FAS metrics of a live score read from the answer.</summary>
public static class CompletionScorer
{
    /// <summary>The decision threshold on the answer-derived live score: live iff the answer is 'Real Face'
    /// (an unparsable answer, 0.5, counts as an attack).</summary>
    public const double Threshold = 0.75;
    public const double UnparsableScore = 0.5;
    private static readonly string[] IdKeys = { "sample_id", "id" };
    private static readonly string[] TextKeys = { "text", "completion", "response" };
    private static readonly string[] TruthKeys = { "true_label", "label", "truth", "solution" };

    /// <summary>Reads a completions file; errors name the file and line.</summary>
    public static List<CompletionLine> Load(string path, Grammar g)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: completions file not found", path);
        var list = new List<CompletionLine>();
        int n = 0;
        foreach (var raw in PaFas.Host.IO.TextLimits.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var src = $"{path}:{n}";
            JsonDocument doc;
            try { doc = JsonDocument.Parse(raw); }
            catch (JsonException e) { throw new InvalidDataException($"{src}: malformed JSON ({e.Message})", e); }
            using (doc)
            {
                var e = doc.RootElement;
                if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{src}: expected a JSON object");
                var id = IdKeys.Select(k => Scalar(e, k)).FirstOrDefault(v => v != null)
                         ?? throw new InvalidDataException($"{src}: no sample id (expected one of {string.Join(", ", IdKeys)})");
                string? text = null;
                foreach (var k in TextKeys)
                    if (e.TryGetProperty(k, out var v) && (text = TextOf(v)) != null) break;
                if (text == null) throw new InvalidDataException($"{src}: no completion text (expected one of {string.Join(", ", TextKeys)}: a string or a list of chat messages)");
                IReadOnlyList<string>? truth = null;
                foreach (var k in TruthKeys)
                    if (e.TryGetProperty(k, out var v) && (truth = LabelOf(v, g)) != null) break;
                list.Add(new CompletionLine(id, text, src, truth));
            }
        }
        if (list.Count == 0) throw new InvalidDataException($"{path}: no completions in the file");
        return list;
    }

    private static string? Scalar(JsonElement e, string key) =>
        !e.TryGetProperty(key, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Number ? v.GetRawText() : null;

    private static string? TextOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Array when v.GetArrayLength() > 0 => TextOf(v[v.GetArrayLength() - 1]),
        JsonValueKind.Object when v.TryGetProperty("content", out var c) => TextOf(c),
        JsonValueKind.Object when v.TryGetProperty("text", out var t) => TextOf(t),
        _ => null,
    };

    /// <summary>A truth label given as a list of strings, an answer list text "['A', 'B']" (optionally inside
    /// &lt;answer&gt; tags) or a single label.</summary>
    private static IReadOnlyList<string>? LabelOf(JsonElement v, Grammar g)
    {
        if (v.ValueKind == JsonValueKind.Array)
            return v.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
                ? v.EnumerateArray().Select(x => Canonical(g, x.GetString()!)).ToArray() : null;
        if (v.ValueKind != JsonValueKind.String) return null;
        var s = v.GetString()!.Replace("<answer>", "").Replace("</answer>", "").Trim();
        if (s == "") return null;
        if (s.StartsWith('['))
        {
            var r = GrammarModule.parseAnswerList(g, s);
            return r.IsOk ? r.ResultValue.ToArray() : null;
        }
        return new[] { Canonical(g, s) };
    }

    private static string Canonical(Grammar g, string s)
    {
        var c = TaxonomyModule.canonical(g.Taxonomy, s);
        return FSharpOption<string>.get_IsSome(c) ? c.Value : s.Trim();
    }

    /// <summary>The answer-derived live score of a judged completion: 1.0 'Real Face', 0.0 'Spoof Face', 0.5 when
    /// no answer can be read or it says neither.</summary>
    public static double LiveScoreOf(Judgement j)
    {
        var live = Judge.answerLive(j);
        return FSharpOption<bool>.get_IsSome(live) ? (live.Value ? 1.0 : 0.0) : UnparsableScore;
    }

    /// <summary>Scores every completion. Truth comes from the manifest (by sample id) or, failing that, from the line.</summary>
    public static CompletionReport Score(IReadOnlyList<CompletionLine> lines, IReadOnlyList<SampleRecord>? manifest, Grammar g, RewardConfig cfg)
    {
        var byId = new Dictionary<string, SampleRecord>(StringComparer.Ordinal);
        foreach (var s in manifest ?? Array.Empty<SampleRecord>()) byId.TryAdd(s.Id, s);
        var rows = new List<ScoredCompletion>(lines.Count);
        foreach (var l in lines)
        {
            byId.TryGetValue(l.Id, out var s);
            var truth = s?.Label ?? l.Truth;
            var truthList = ListModule.OfSeq(truth ?? Array.Empty<string>());
            var j = Judge.completion(g, l.Text);
            var reward = Rewards.ofJudgement(g, cfg, truthList, j);
            var failure = j.Failure?.Value;
            var answer = j.Answer?.Value.ToArray();
            var attack = s?.Attack ?? (truth != null && truth.Count > 0 && !TaxonomyModule.isLive(truthList) ? truth[^1] : "");
            rows.Add(new ScoredCompletion(l, reward, failure == null ? "" : Judge.failureKind(failure),
                failure == null ? "" : Judge.failureDetail(failure), answer, LiveScoreOf(j), truth, attack, s?.Domain ?? "", j));
        }
        var failures = rows.Where(r => r.Failure != "").GroupBy(r => r.Failure).OrderByDescending(x => x.Count())
            .ToDictionary(x => x.Key, x => x.Count());
        var scored = rows.Where(r => r.Truth != null && r.Truth.Count > 0)
            .Select(r => new Scored(r.LiveScore, r.Truth![0] == TaxonomyModule.LiveName, r.Truth[0] == TaxonomyModule.LiveName ? "" : r.Attack, r.Domain)).ToArray();
        FasReport? fas = null;
        string note;
        if (scored.Length == 0) note = "no live/spoof truth (give --data MANIFEST or a label on each line): no FAS metrics";
        else
        {
            var r = Metrics.reportAt(Threshold, false, FSharpOption<double>.None, scored);
            if (r.IsOk) { fas = r.ResultValue; note = ""; }
            else note = "no FAS metrics: " + r.ErrorValue;
        }
        return new CompletionReport(rows, cfg, rows.Count(r => r.Truth != null && r.Truth.Count > 0),
            rows.Count(r => r.LiveScore == UnparsableScore && r.Answer == null), failures, fas, note);
    }

    /// <summary>report.md, metrics.json and scored.jsonl (one line per completion) in <paramref name="outDir"/>.</summary>
    public static void Write(string outDir, CompletionReport r, string source, int examplesPerKind = 3)
    {
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.md"), Markdown(r, source, examplesPerKind));
        var json = new Dictionary<string, object?>
        {
            ["completions"] = source,
            ["count"] = r.Rows.Count,
            ["with_truth"] = r.WithTruth,
            ["reward_mode"] = Rewards.modeText(r.Config.Mode),
            ["format_weight"] = r.Config.FormatWeight,
            ["class_weight"] = r.Config.ClassWeight,
            ["mean_format_reward"] = Num(r.MeanFormat),
            ["mean_classification_reward"] = Num(r.MeanClassification),
            ["mean_total_reward"] = Num(r.MeanTotal),
            ["format_failure_rate"] = Num(r.FormatFailureRate),
            ["unparsable_answers"] = r.Unparsable,
            ["format_failures"] = r.Failures,
            ["failure_examples"] = Examples(r, examplesPerKind).ToDictionary(x => x.Key, x => x.Value.Select(e => new { id = e.Line.Id, source = e.Line.Source, detail = e.FailureDetail, text = Clip(e.Line.Text) }).ToArray()),
            ["live_score"] = "from the parsed answer: 1.0 'Real Face', 0.0 spoof answer, 0.5 unparsable; live iff score >= 0.75",
            ["fas"] = r.Fas == null ? null : new Dictionary<string, object?>
            {
                ["threshold"] = r.Fas.Threshold, ["lives"] = r.Fas.Lives, ["spoofs"] = r.Fas.Spoofs, ["auc"] = Num(r.Fas.Auc),
                ["eer"] = Num(r.Fas.Eer), ["hter"] = Num(r.Fas.Hter), ["acer"] = Num(r.Fas.Acer), ["apcer_max"] = Num(r.Fas.Apcer),
                ["bpcer"] = Num(r.Fas.Bpcer), ["apcer_per_attack"] = r.Fas.ApcerPerAttack.ToDictionary(a => a.Item1, a => Num(a.Item2)),
            },
            ["fas_note"] = r.FasNote,
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        var sb = new StringBuilder();
        foreach (var x in r.Rows)
            sb.Append(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["id"] = x.Line.Id, ["format"] = x.Reward.Format, ["classification"] = x.Reward.Classification, ["total"] = x.Reward.Total,
                ["failure"] = x.Failure, ["answer"] = x.Answer, ["truth"] = x.Truth, ["live_score"] = x.LiveScore,
                ["conclusion"] = x.Judgement.Conclusion?.Value, ["consistent"] = Judge.consistent(x.Judgement)?.Value,
                ["self_contradictory"] = Judge.selfContradictory(x.Judgement),
            })).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(outDir, "scored.jsonl"), sb.ToString());
    }

    /// <summary>A few lines for the terminal.</summary>
    public static string Summary(CompletionReport r)
    {
        var sb = new StringBuilder();
        sb.Append($"{r.Rows.Count} completions, {r.WithTruth} with truth; rewards ({Rewards.modeText(r.Config.Mode)}): format {F(r.MeanFormat)}, classification {F(r.MeanClassification)}, total {F(r.MeanTotal)}\n");
        sb.Append($"format failures: {P(r.FormatFailureRate)}");
        if (r.Failures.Count > 0) sb.Append(" (").Append(string.Join(", ", r.Failures.Select(f => $"{f.Key}: {f.Value}"))).Append(')');
        sb.Append('\n');
        if (r.Fas is { } m)
            sb.Append($"FAS (live score from the answer: Real 1, spoof 0, unparsable 0.5 [{r.Unparsable}]; threshold {Threshold}): AUC {P(m.Auc)}, HTER {P(m.Hter)}, ACER {P(m.Acer)}, APCER {P(m.Apcer)}, BPCER {P(m.Bpcer)}\n");
        else sb.Append(r.FasNote).Append('\n');
        return sb.ToString();
    }

    private static string Markdown(CompletionReport r, string source, int k)
    {
        var md = new StringBuilder($"# PA-FAS completion scores\n\n- completions: `{source}` ({r.Rows.Count}, {r.WithTruth} with a truth label)\n");
        md.Append($"- rewards as in training: R = {F(r.Config.FormatWeight)} x format + {F(r.Config.ClassWeight)} x classification ({Rewards.modeText(r.Config.Mode)})\n\n");
        md.Append("| mean format | mean classification | mean total | format failures |\n|---:|---:|---:|---:|\n");
        md.Append($"| {F(r.MeanFormat)} | {F(r.MeanClassification)} | {F(r.MeanTotal)} | {P(r.FormatFailureRate)} |\n\n");
        md.Append("## Format failures\n\n");
        if (r.Failures.Count == 0) md.Append("None.\n\n");
        else
        {
            md.Append("| kind | count |\n|---|---:|\n");
            foreach (var f in r.Failures) md.Append($"| {f.Key} | {f.Value} |\n");
            md.Append('\n');
            foreach (var (kind, ex) in Examples(r, k))
            {
                md.Append($"### {kind}\n\n");
                foreach (var e in ex)
                    md.Append($"- `{e.Line.Source}` ({e.Line.Id}){(e.FailureDetail == "" ? "" : ": " + e.FailureDetail)}\n\n  ```\n  {Clip(e.Line.Text).Replace("\n", "\n  ")}\n  ```\n");
                md.Append('\n');
            }
        }
        md.Append("## FAS metrics\n\n");
        md.Append($"The live score is read from the parsed answer (no model probabilities): 1.0 for 'Real Face', 0.0 for a spoof answer, " +
                  $"{UnparsableScore} when no answer can be parsed ({r.Unparsable} completions). Decision threshold {Threshold}: live iff the answer is 'Real Face'. " +
                  "With three score levels the AUC and EER are coarse.\n\n");
        if (r.Fas is { } m) Evaluation.ReportWriter.AppendMetrics(md, m);
        else md.Append(r.FasNote).Append('\n');
        return md.ToString();
    }

    private static List<KeyValuePair<string, List<ScoredCompletion>>> Examples(CompletionReport r, int k) =>
        r.Failures.Keys.Select(kind => new KeyValuePair<string, List<ScoredCompletion>>(kind, r.Rows.Where(x => x.Failure == kind).Take(k).ToList())).ToList();

    private static string Clip(string s) => s.Length <= 300 ? s : s[..300] + " ...";
    private static double? Num(double x) => double.IsNaN(x) || double.IsInfinity(x) ? null : x;
    private static string F(double x) => double.IsNaN(x) ? "n/a" : x.ToString("0.###", CultureInfo.InvariantCulture);
    private static string P(double x) => double.IsNaN(x) ? "n/a" : (100 * x).ToString("0.##", CultureInfo.InvariantCulture) + "%";
}
