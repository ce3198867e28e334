using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Training;

namespace PaFas.Host.Commands;

/// <summary><c>pafas sft</c>: supervised fine-tuning on path-augmented chains (completion tokens only).</summary>
public static class SftCommand
{
    public static int Run(SftArgs a, ILogger log)
    {
        var r = SftTrainer.Run(new SftOptions
        {
            Chains = a.Chains, Val = a.Val, Root = a.Root, Out = a.Out, Preset = a.Preset, Init = a.Init, Steps = a.Steps, Lr = a.Lr,
            Batch = a.Batch, GradAccum = a.GradAccum, Warmup = a.Warmup, Schedule = a.Schedule, WeightDecay = a.WeightDecay,
            ClipNorm = a.ClipGrad, EvalEvery = a.EvalEvery, LogEvery = a.LogEvery, SaveEvery = a.SaveEvery, Resume = a.Resume, Force = a.Force,
            Seed = a.Common.Seed, Device = a.Common.Device, Threads = a.Common.Threads, Cancel = Program.Cancellation,
        }, log);
        Console.WriteLine($"sft: {(r.Completed ? "finished" : "stopped")} at step {r.Step}, loss {r.FirstLoss:F4} -> {r.LastLoss:F4}" +
            (r.BestMetric is { } b ? $", best {r.BestMetricName} {b:F4} at step {r.BestStep}" : "") + $" ({r.Seconds:F0} s)");
        Console.WriteLine(r.Checkpoint);
        return r.Completed ? 0 : 130;
    }
}
