using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Evaluation;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas eval</c>: chains + live scores on a test set, threshold from validation, report files.</summary>
public static class EvalCommand
{
    public static int Run(EvalOptions o, ILogger log)
    {
        OutputGuard.Folder("--out", o.Out, null, GuardedInput.File("--data", o.Data), GuardedInput.File("--val", o.Val), GuardedInput.Model("--model", o.Model));
        if (o.Protocol is { } p)
            log.LogInformation("eval: protocol {Name} ({Arrow}{Drop})", p.Name, Protocols.arrow(p),
                p.Drop.IsEmpty ? "" : ", missing " + string.Join(",", p.Drop.Select(ModalityModule.key)));
        var r = EvalRunner.Run(o.WithProtocol(), log);
        Console.WriteLine(Summary(r.Report, r.Quality));
        Console.WriteLine($"report: {Path.Combine(r.OutDir, "report.md")}");
        return 0;
    }

    /// <summary>The headline numbers in one line.</summary>
    public static string Summary(FasReport r, ReasoningSummary q) =>
        $"HTER {100 * r.Hter:F2}%  AUC {100 * r.Auc:F2}%  ACER {100 * r.Acer:F2}%  EER {100 * r.Eer:F2}%  " +
        $"(threshold {r.Threshold:F3} {(r.ThresholdFromValidation ? "from validation" : "set on test")}; {r.Lives} live / {r.Spoofs} spoof)  " +
        $"format failures {ReasoningReport.Text(q.FormatFailures)}  answer live/spoof {ReasoningReport.Text(q.AnswerLive)}  " +
        $"consistency {ReasoningReport.Text(q.Consistency)}  answer/score agreement {ReasoningReport.Text(q.AnswerScoreAgreement)}  " +
        $"self-contradicting {ReasoningReport.Text(q.SelfContradiction)}  faithfulness {ReasoningReport.Faithfulness(q)}";
}
