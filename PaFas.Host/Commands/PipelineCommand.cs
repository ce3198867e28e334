using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Model;
using PaFas.Host.Pipeline;

namespace PaFas.Host.Commands;

/// <summary><c>pafas pipeline</c>: the end-to-end job (synthetic world -> annotate -> augment -> SFT -> GRPO ->
/// held-out evaluation).</summary>
public static class PipelineCommand
{
    public static int Run(PipelineArgs a, ILogger log)
    {
        var p = PipelinePreset.Named(a.Preset);
        if (a.SftSteps > 0) p = p with { SftSteps = a.SftSteps };
        if (a.GrpoSteps > 0) p = p with { GrpoSteps = a.GrpoSteps };
        if (a.PerDomain > 0) p = p with { PerDomain = a.PerDomain };
        if (a.Model != "") p = p with { Model = a.Model };
        var init = a.FromScratch ? "" : a.Pretrained != "" ? a.Pretrained : PretrainedPack.Shipped(p.Model) ?? "";
        if (!a.FromScratch && init == "")
            log.LogWarning("pipeline: no pretrained pack is shipped for model {Model} (data/pretrained/{Model}); SFT starts from scratch", p.Model, p.Model);
        p = p with { Init = init };
        var r = PipelineRunner.Run(p, a.Out, a.Holdout, a.Common.Seed, a.Common.Threads, a.Common.Device, log, Program.Cancellation);
        Console.WriteLine();
        Console.WriteLine($"PA-FAS pipeline ({p.Name}) finished in {r.Seconds / 60:F1} min. Held-out domain {a.Holdout}:");
        Console.WriteLine("  " + EvalCommand.Summary(r.Test, r.Quality));
        Console.WriteLine();
        Console.WriteLine("A few predicted chains on the held-out domain:");
        foreach (var row in r.Samples.GroupBy(s => s.Sample.IsLive).SelectMany(g => g.Take(2)))
        {
            Console.WriteLine($"- {row.Sample.Id} (truth: {row.Sample.Label[^1]}; live score {row.LiveScore:F3} -> {(row.LiveScore >= r.Test.Threshold ? "live" : "spoof")})");
            Console.WriteLine($"  {row.Completion}");
        }
        Console.WriteLine();
        Console.WriteLine($"summary: {r.Report}");
        Console.WriteLine($"report:  {Path.Combine(r.OutDir, "eval", "report.md")}");
        var model = Path.Combine(r.OutDir, "grpo", "best");
        if (!Directory.Exists(model)) model = Path.Combine(r.OutDir, "grpo");
        Console.WriteLine($"model:   {model}  (the evaluated checkpoint; pafas predict --model {model} --rgb ... --depth ... --ir ...)");
        return 0;
    }
}
