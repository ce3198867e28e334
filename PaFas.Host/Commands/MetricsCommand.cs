using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Evaluation;
using Microsoft.FSharp.Core;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas metrics</c>: FAS metrics from any system's scores (CSV or JSONL; see <see cref="ScoreFile"/>).</summary>
public static class MetricsCommand
{
    public static int Run(MetricsOptions a, ILogger log)
    {
        if (a.Out != "") OutputGuard.Folder("--out", a.Out, null, GuardedInput.File("--scores", a.Scores), GuardedInput.File("--val-scores", a.ValScores));
        void Warn(string w) => log.LogWarning("metrics: {Warning}", w);
        var test = ScoreFile.Read(a.Scores, Warn);
        var val = a.ValScores == "" ? null : ScoreFile.Read(a.ValScores, Warn);
        var r = Metrics.report(val == null ? FSharpOption<Scored[]>.None : FSharpOption<Scored[]>.Some(val), test);
        if (r.IsError) throw new InvalidDataException($"{(r.ErrorValue.StartsWith("validation") ? a.ValScores : a.Scores)}: {r.ErrorValue}");
        var rep = r.ResultValue;
        var md = new System.Text.StringBuilder();
        ReportWriter.AppendMetrics(md, rep);
        Console.WriteLine(md.ToString());
        if (a.Out != "")
        {
            ReportWriter.WriteScores(a.Out, "PA-FAS metrics: " + Path.GetFileName(a.Scores), a.Scores, rep, test);
            Console.WriteLine($"report: {Path.Combine(a.Out, "report.md")}");
        }
        return 0;
    }
}
