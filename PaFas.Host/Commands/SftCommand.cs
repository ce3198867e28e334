using Microsoft.Extensions.Logging;
using PaFas.Host.Training;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas sft</c>: supervised fine-tuning on path-augmented chains (completion tokens only).</summary>
public static class SftCommand
{
    public static int Run(SftOptions o, ILogger log)
    {
        OutputGuard.Folder("--out", o.Out, RunFolder.RunEntries, GuardedInput.File("--chains", o.Chains), GuardedInput.File("--val", o.Val),
            GuardedInput.Start("--init", o.Init));
        TrainingInputs.Check(o.Chains, o.Root);
        TrainingInputs.Check(o.Val, o.Root);
        var r = SftTrainer.Run(o with { Cancel = Program.Cancellation }, log);
        Console.WriteLine($"sft: {(r.Completed ? "finished" : "stopped")} at step {r.Step}, loss {r.FirstLoss:F4} -> {r.LastLoss:F4}" +
            (r.BestMetric is { } b ? $", best {r.BestMetricName} {b:F4} at step {r.BestStep}" : "") + $" ({r.Seconds:F0} s)");
        Console.WriteLine(r.Checkpoint);
        return r.Completed ? 0 : 130;
    }
}
