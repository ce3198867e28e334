using Microsoft.Extensions.Logging;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.IO;

namespace PaFas.Host.Commands;

/// <summary><c>pafas split</c>: a protocol's train / validation / test manifests (see <see cref="ProtocolSplit"/>).</summary>
public static class SplitCommand
{
    public static int Run(SplitOptions a, ILogger log)
    {
        a.Validate();
        // --sources/--targets: any domain names (a real data set's sessions or sensors), named by the arrow form
        var p = a.Split;
        OutputGuard.Folder("--out", a.Out, ProtocolSplit.Files, GuardedInput.File("--data", a.Data));
        var all = Manifest.Load(a.Data, new ManifestOptions { Root = a.Root });
        var (train, val, test) = ProtocolSplit.Make(all, p.Name, p.Sources.ToArray(), p.Targets.ToArray(), a.ValFraction, a.Seed, a.Data,
            w => log.LogWarning("split: {Warning}", w));
        var files = ProtocolSplit.Write(a.Out, p.Name, p.Sources.ToArray(), p.Targets.ToArray(), train, val, test, a.Data, a.ValFraction, a.Seed);
        var name = a.IsCustom ? p.Name : $"{p.Name} ({Protocols.arrow(p)})";
        log.LogInformation("split {Name}: train {Train}, validation {Val}, test {Test} -> {Out}", name, files.Train, files.Val, files.Test, a.Out);
        Console.WriteLine($"{name}: train {files.Train}, validation {files.Val}, test {files.Test}");
        Console.WriteLine(Path.GetFullPath(a.Out));
        return 0;
    }
}
