using System.Globalization;
using System.Text;
using Microsoft.FSharp.Core;
using PaFas.Core;

namespace PaFas.Host.Evaluation;

/// <summary>The reasoning measures (<see cref="ReasoningSummary"/>, <see cref="Diagnosis"/>, <see cref="Agreement"/>)
/// as Markdown, metrics.json fields and JSON-line fields, for eval, the pipeline and predict. A rate with nothing to
/// count is "n/a" (null in JSON), never 0%.</summary>
public static class ReasoningReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>"12.50% (5/40)", or "n/a" when the rate counts nothing.</summary>
    public static string Text(Rate r) => r.Of == 0 ? "n/a" : $"{(100 * r.Value).ToString("0.00", Inv)}% ({r.Hits}/{r.Of})";

    private static object? Num(Rate r) => r.Of == 0 ? null : r.Value;

    /// <summary>The "Reasoning" section of an evaluation report.</summary>
    public static void AppendMarkdown(StringBuilder md, ReasoningSummary q)
    {
        md.Append("## Reasoning (where the signal goes: truth -> chain -> written answer -> live score)\n\n");
        md.Append($"{q.Chains} chains. The decision is the live score against the threshold; the chain's conclusion is its last " +
                  "forward step (\"This points to X.\") not ruled out later. Rates are over all chains (a chain without a " +
                  "conclusion or an answer counts as wrong / not agreeing); leaf rates over samples whose truth is a full taxonomy path.\n\n");
        md.Append("| measure | value |\n|---|---:|\n");
        void Row(string name, string value) => md.Append($"| {name} | {value} |\n");
        Row("format failures", Text(q.FormatFailures) + (q.FailureKinds.IsEmpty ? "" : " — " + string.Join(", ", q.FailureKinds.Select(k => $"{k.Item1}: {k.Item2}"))));
        Row("chain conclusion = true leaf", Text(q.ConclusionLeaf));
        Row("chain conclusion live/spoof = truth", Text(q.ConclusionLive));
        Row("written answer = true label", Text(q.AnswerLeaf));
        Row("written answer live/spoof = truth", Text(q.AnswerLive));
        Row("consistency (conclusion = answer)", Text(q.Consistency) + $"; {q.WithConclusion} chains have a conclusion");
        Row("answer live/spoof = score verdict", Text(q.AnswerScoreAgreement));
        Row("conclusion live/spoof = score verdict", Text(q.ConclusionScoreAgreement));
        Row("answer, conclusion and score all agree", Text(q.AllAgree));
        Row("self-contradicting chains", Text(q.SelfContradiction) + $" (a cue and its opposite: {Text(q.OpposedCues)}; ill-formed clause: {Text(q.IllFormed)})");
        Row("faithfulness (cited cues that are true)", Faithfulness(q));
        Row("cites a modality not shown", Text(q.AbsentModality));
        md.Append('\n');
    }

    /// <summary>Faithfulness with the reason when it cannot be measured.</summary>
    public static string Faithfulness(ReasoningSummary q) =>
        q.WithTruthCues == 0 ? "n/a (the manifest has no ground-truth cues)"
        : q.Faithfulness.Of == 0 ? $"n/a (no cue cited; {q.WithTruthCues} samples with ground-truth cues)"
        : Text(q.Faithfulness) + $" over {q.WithTruthCues} samples with ground-truth cues";

    /// <summary>The "reasoning" object of metrics.json.</summary>
    public static Dictionary<string, object?> Json(ReasoningSummary q) => new()
    {
        ["chains"] = q.Chains,
        ["format_failure_rate"] = Num(q.FormatFailures),
        ["format_failures"] = q.FailureKinds.ToDictionary(k => k.Item1, k => k.Item2),
        ["conclusion_leaf_accuracy"] = Num(q.ConclusionLeaf),
        ["conclusion_live_spoof_accuracy"] = Num(q.ConclusionLive),
        ["answer_leaf_accuracy"] = Num(q.AnswerLeaf),
        ["answer_live_spoof_accuracy"] = Num(q.AnswerLive),
        ["chains_with_conclusion"] = q.WithConclusion,
        ["consistency"] = Num(q.Consistency),
        ["answer_score_agreement"] = Num(q.AnswerScoreAgreement),
        ["conclusion_score_agreement"] = Num(q.ConclusionScoreAgreement),
        ["all_agree"] = Num(q.AllAgree),
        ["self_contradiction_rate"] = Num(q.SelfContradiction),
        ["opposed_cue_rate"] = Num(q.OpposedCues),
        ["ill_formed_clause_rate"] = Num(q.IllFormed),
        ["faithfulness"] = Num(q.Faithfulness),
        ["cited_cues_with_truth"] = q.Faithfulness.Of,
        ["samples_with_truth_cues"] = q.WithTruthCues,
        ["absent_modality_rate"] = Num(q.AbsentModality),
    };

    private static object? B(FSharpOption<bool>? b) => b == null ? null : b.Value;

    /// <summary>Whether answer, chain conclusion and score verdict agree, as JSON-line fields (null = not defined:
    /// no answer or no conclusion).</summary>
    public static Dictionary<string, object?> AgreementFields(Grammar g, Judgement j, Agreement a) => new()
    {
        ["format_valid"] = Judge.formatValid(j),
        ["format_failure"] = j.Failure == null ? null : Judge.failureKind(j.Failure.Value),
        ["conclusion"] = j.Conclusion?.Value,
        ["conclusion_live"] = B(Judge.conclusionLive(g, j)),
        ["consistent"] = B(a.ConclusionIsAnswer),
        ["answer_agrees_with_score"] = B(a.AnswerAgreesWithScore),
        ["conclusion_agrees_with_score"] = B(a.ConclusionAgreesWithScore),
        ["all_agree"] = a.All,
        ["self_contradictory"] = Judge.selfContradictory(j),
    };

    /// <summary>A sample's reasoning fields for predictions.jsonl.</summary>
    public static Dictionary<string, object?> SampleFields(Grammar g, Diagnosis d)
    {
        var f = AgreementFields(g, d.Judgement, d.Agreement);
        f["answer_correct"] = B(d.AnswerLeaf);
        f["answer_live_correct"] = d.AnswerLive;
        f["conclusion_correct"] = B(d.ConclusionLeaf);
        f["conclusion_live_correct"] = d.ConclusionLive;
        f["true_cited"] = d.TrueCited == null ? null : d.TrueCited.Value;
        f["cited"] = d.Judgement.Cited.Length;
        return f;
    }

    /// <summary>One line for people: "answer, conclusion and score agree" or which of them disagree.</summary>
    public static string AgreementText(Agreement a)
    {
        if (a.All) return "answer, chain conclusion and score verdict agree";
        var parts = new List<string>();
        if (a.ConclusionIsAnswer == null) parts.Add("no chain conclusion or no answer to compare");
        else if (!a.ConclusionIsAnswer.Value) parts.Add("chain conclusion differs from the answer");
        if (a.AnswerAgreesWithScore is { } x && !x.Value) parts.Add("answer disagrees with the score verdict");
        if (a.AnswerAgreesWithScore == null) parts.Add("answer says neither live nor spoof");
        if (a.ConclusionAgreesWithScore is { } y && !y.Value) parts.Add("chain conclusion disagrees with the score verdict");
        return "DISAGREEMENT: " + string.Join("; ", parts);
    }
}
