using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Evaluation;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas eval</c>: chains + live scores on a test set, threshold from validation, report files.</summary>
public static class EvalCommand
{
    public static int Run(EvalArgs a, ILogger log)
    {
        OutputGuard.Folder("--out", a.Out, null, GuardedInput.File("--data", a.Data), GuardedInput.File("--val", a.Val), GuardedInput.Model("--model", a.Model));
        var drop = a.Drop;
        IReadOnlyList<string> domains = a.Domains.ToArray(), valDomains = a.ValDomains.ToArray();
        if (a.Protocol != "")
        {
            var p = Protocols.tryFind(a.Protocol);
            if (p == null) throw new ArgumentException($"--protocol: unknown protocol '{a.Protocol}' (known: {string.Join(", ", Protocols.all.Select(x => x.Name))})");
            var proto = p.Value;
            if (domains.Count == 0) domains = proto.Targets.ToArray();
            if (valDomains.Count == 0) valDomains = proto.Sources.ToArray();
            if (drop == "none" || drop == "") drop = proto.Drop.IsEmpty ? "none" : string.Join(",", proto.Drop.Select(ModalityModule.key));
            log.LogInformation("eval: protocol {Name} ({Arrow}{Drop})", proto.Name, Protocols.arrow(proto), proto.Drop.IsEmpty ? "" : ", missing " + drop);
        }
        var r = EvalRunner.Run(new EvalOptions
        {
            Model = a.Model, Data = a.Data, Val = a.Val, Out = a.Out, Drop = drop, Domains = domains, ValDomains = valDomains,
            Batch = a.Batch, MaxNewTokens = a.MaxNew, Device = a.Common.Device, Root = a.Root, ChainsPerAttack = a.ChainsPerAttack,
        }, log);
        Console.WriteLine(Summary(r.Report, r.Quality));
        Console.WriteLine($"report: {Path.Combine(r.OutDir, "report.md")}");
        return 0;
    }

    /// <summary>The headline numbers in one line.</summary>
    public static string Summary(FasReport r, QualitySummary q) =>
        $"HTER {100 * r.Hter:F2}%  AUC {100 * r.Auc:F2}%  ACER {100 * r.Acer:F2}%  EER {100 * r.Eer:F2}%  " +
        $"(threshold {r.Threshold:F3} {(r.ThresholdFromValidation ? "from validation" : "set on test")}; {r.Lives} live / {r.Spoofs} spoof)  " +
        $"format failures {100 * q.FormatFailureRate:F1}%  faithfulness {100 * q.Faithfulness:F1}%  consistency {100 * q.Consistency:F1}%";
}
