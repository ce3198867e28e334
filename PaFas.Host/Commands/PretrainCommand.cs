using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Model;
using PaFas.Host.Training;

namespace PaFas.Host.Commands;

/// <summary><c>pafas pretrain</c>: perception pretraining on the randomized-sensor stream; optionally writes the
/// result as a pretrained pack (what data/pretrained/&lt;preset&gt; holds).</summary>
public static class PretrainCommand
{
    public static int Run(PretrainArgs a, ILogger log)
    {
        if (a.Pack != "" && (Directory.Exists(a.Pack) || File.Exists(a.Pack)))
            throw new ArgumentException($"--pack {a.Pack}: already exists; the pack goes into a new folder");
        var r = PretrainTrainer.Run(new PretrainOptions
        {
            Out = a.Out, Preset = a.Preset, Steps = a.Steps, Lr = a.Lr, Batch = a.Batch, Warmup = a.Warmup, Schedule = a.Schedule,
            DescribeShare = a.DescribeShare, ProbePerDomain = a.ProbePerDomain, ProbeSeed = a.ProbeSeed, EvalEvery = a.EvalEvery,
            LogEvery = a.LogEvery, SaveEvery = a.SaveEvery, Resume = a.Resume, Force = a.Force,
            Seed = a.Common.Seed, Device = a.Common.Device, Threads = a.Common.Threads, Cancel = Program.Cancellation,
        }, log);
        Console.WriteLine($"pretrain: {(r.Completed ? "finished" : "stopped")} at step {r.Step}, loss {r.FirstLoss:F4} -> {r.LastLoss:F4} ({r.Seconds:F0} s)");
        if (r.Probe != null) Console.WriteLine($"perception (held-out C, P, S, W faces): {r.Probe.Summary()}");
        Console.WriteLine(r.Checkpoint);
        if (!r.Completed) return 130;
        if (a.Pack != "")
        {
            var provenance = new Dictionary<string, string>
            {
                ["command"] = "pafas " + string.Join(" ", Environment.GetCommandLineArgs().Skip(1)),
                ["seed"] = a.Common.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["threads"] = a.Common.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["build"] = Program.Version,
                ["seconds"] = r.Seconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
                ["perception"] = r.Probe?.Summary() ?? "",
            };
            var sha = PretrainedPack.Write(r.Checkpoint, a.Pack, provenance);
            Console.WriteLine($"pack: {a.Pack} (sha256 {sha})");
        }
        return 0;
    }
}
