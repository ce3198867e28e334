using Microsoft.Extensions.Logging;
using PaFas.Host.Augmentation;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas augment</c>: manifest + cue annotations -> PNRPS chains with answer shuffling (JSONL).</summary>
public static class AugmentCommand
{
    public static int Run(AugmentOptions o, ILogger log)
    {
        OutputGuard.File("--out", o.Out, GuardedInput.File("--data", o.Data), GuardedInput.File("--annotations", o.Annotations));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = Augmenter.Run(o, GrammarStore.Default);
        log.LogInformation("augment: {Chains} chains from {Samples} samples in {S:F1} s ({Skipped} skipped: spoofs of unknown attack) -> {Out}",
            r.Chains, r.Samples, sw.Elapsed.TotalSeconds, r.SkippedUnknownAttack, r.OutFile);
        foreach (var w in r.Annotations?.Warnings() ?? Array.Empty<string>()) log.LogWarning("augment: {Warning}", w);
        foreach (var kv in r.ChainsPerLeaf) log.LogInformation("  {Leaf,-28} {N,7} chains", kv.Key, kv.Value);
        Console.WriteLine(r.OutFile);
        return 0;
    }
}
