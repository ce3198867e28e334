using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Training;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas grpo</c>: group-relative policy optimisation from an SFT run.</summary>
public static class GrpoCommand
{
    public static int Run(GrpoArgs a, ILogger log)
    {
        OutputGuard.Folder("--out", a.Out, RunFolder.RunEntries, GuardedInput.File("--data", a.Data), GuardedInput.File("--val", a.Val),
            GuardedInput.Start("--init", a.Init));
        TrainingInputs.Check(a.Data, a.Root, a.Domains.ToArray());
        TrainingInputs.Check(a.Val, a.Root);
        var r = GrpoTrainer.Run(new GrpoOptions
        {
            Data = a.Data, Root = a.Root, Init = a.Init, Out = a.Out, Val = a.Val, Steps = a.Steps, Prompts = a.Prompts,
            Group = a.Group, Mu = a.Iterations, Lr = a.Lr, EpsLow = a.EpsLow, EpsHigh = a.EpsHigh, Temperature = a.Temperature,
            TopP = a.TopP, MaxNewTokens = a.MaxNew, RewardMode = a.RewardMode, FormatWeight = a.FormatWeight,
            ClassWeight = a.ClassWeight, Scale = a.Scale, Loss = a.Loss, Beta = a.Kl, ClipNorm = a.ClipGrad,
            Domains = a.Domains.ToArray(), EvalEvery = a.EvalEvery, LogEvery = a.LogEvery, SaveEvery = a.SaveEvery,
            Resume = a.Resume, Force = a.Force, Seed = a.Common.Seed, Device = a.Common.Device, Threads = a.Common.Threads, Cancel = Program.Cancellation,
        }, log);
        Console.WriteLine($"grpo: {(r.Completed ? "finished" : "stopped")} at step {r.Step}, mean reward {r.FirstReward:F3} -> {r.LastReward:F3}, " +
            $"zero-std groups {100 * r.MeanTiedFraction:F1}%" + (r.BestMetric is { } b ? $", best {r.BestMetricName} {b:F4} at step {r.BestStep}" : "") + $" ({r.Seconds:F0} s)");
        Console.WriteLine(r.Checkpoint);
        return r.Completed ? 0 : 130;
    }
}
