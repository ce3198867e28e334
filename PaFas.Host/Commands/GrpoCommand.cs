using Microsoft.Extensions.Logging;
using PaFas.Host.Training;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas grpo</c>: group-relative policy optimisation from an SFT run.</summary>
public static class GrpoCommand
{
    public static int Run(GrpoOptions o, ILogger log)
    {
        OutputGuard.Folder("--out", o.Out, RunFolder.RunEntries, GuardedInput.File("--data", o.Data), GuardedInput.File("--val", o.Val),
            GuardedInput.Start("--init", o.Init));
        TrainingInputs.Check(o.Data, o.Root, o.Domains.ToArray());
        TrainingInputs.Check(o.Val, o.Root);
        var r = GrpoTrainer.Run(o with { Cancel = Program.Cancellation }, log);
        Console.WriteLine($"grpo: {(r.Completed ? "finished" : "stopped")} at step {r.Step}, mean reward {r.FirstReward:F3} -> {r.LastReward:F3}, " +
            $"zero-std groups {100 * r.MeanZeroStdFraction:F1}%" + (r.BestMetric is { } b ? $", best {r.BestMetricName} {b:F4} at step {r.BestStep}" : "") + $" ({r.Seconds:F0} s)");
        Console.WriteLine(r.Checkpoint);
        return r.Completed ? 0 : 130;
    }
}
