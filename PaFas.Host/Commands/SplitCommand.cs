using Microsoft.Extensions.Logging;
using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;

namespace PaFas.Host.Commands;

/// <summary><c>pafas split</c>: a protocol's train / validation / test manifests (see <see cref="ProtocolSplit"/>).</summary>
public static class SplitCommand
{
    public static int Run(SplitArgs a, ILogger log)
    {
        // --sources/--targets: any domain names (a real data set's sessions or sensors), named by the arrow form
        var p = a.Protocol == ""
            ? new Protocol(string.Join(",", a.Sources) + "->" + string.Join(",", a.Targets), a.Sources, a.Targets, FSharpList<Modality>.Empty,
                "custom split by domain")
            : Protocols.tryFind(a.Protocol)?.Value ?? throw new ArgumentException($"--protocol: unknown protocol '{a.Protocol}'");
        var all = Manifest.Load(a.Data, new ManifestOptions { Root = a.Root });
        var (train, val, test) = ProtocolSplit.Make(all, p.Name, p.Sources.ToArray(), p.Targets.ToArray(), a.ValFraction, a.Common.Seed, a.Data);
        var files = ProtocolSplit.Write(a.Out, p.Name, p.Sources.ToArray(), p.Targets.ToArray(), train, val, test, a.Data, a.ValFraction, a.Common.Seed);
        var name = a.Protocol == "" ? p.Name : $"{p.Name} ({Protocols.arrow(p)})";
        log.LogInformation("split {Name}: train {Train}, validation {Val}, test {Test} -> {Out}", name, files.Train, files.Val, files.Test, a.Out);
        Console.WriteLine($"{name}: train {files.Train}, validation {files.Val}, test {files.Test}");
        Console.WriteLine(Path.GetFullPath(a.Out));
        return 0;
    }
}
