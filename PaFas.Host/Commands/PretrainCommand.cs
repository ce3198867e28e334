using Microsoft.Extensions.Logging;
using PaFas.Host.Model;
using PaFas.Host.Training;

namespace PaFas.Host.Commands;

/// <summary><c>pafas pretrain</c>: perception pretraining on the randomized-sensor stream; optionally writes the
/// result as a pretrained pack (what data/pretrained/&lt;preset&gt; holds).</summary>
public static class PretrainCommand
{
    public static int Run(PretrainOptions o, ILogger log)
    {
        if (o.Pack != "" && (Directory.Exists(o.Pack) || File.Exists(o.Pack)))
            throw new ArgumentException($"--pack {o.Pack}: already exists; the pack goes into a new folder");
        var r = PretrainTrainer.Run(o with { Cancel = Program.Cancellation }, log);
        Console.WriteLine($"pretrain: {(r.Completed ? "finished" : "stopped")} at step {r.Step}, loss {r.FirstLoss:F4} -> {r.LastLoss:F4} ({r.Seconds:F0} s)");
        if (r.Probe != null) Console.WriteLine($"perception (held-out C, P, S, W faces): {r.Probe.Summary()}");
        Console.WriteLine(r.Checkpoint);
        if (!r.Completed) return 130;
        if (o.Pack != "")
        {
            var provenance = new Dictionary<string, string>
            {
                ["command"] = "pafas " + string.Join(" ", Environment.GetCommandLineArgs().Skip(1)),
                ["seed"] = o.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["threads"] = o.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["build"] = Program.Version,
                ["seconds"] = r.Seconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
                ["perception"] = r.Probe?.Summary() ?? "",
            };
            var sha = PretrainedPack.Write(r.Checkpoint, o.Pack, provenance);
            Console.WriteLine($"pack: {o.Pack} (sha256 {sha})");
        }
        return 0;
    }
}
