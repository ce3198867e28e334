using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas bench</c>: throughput benchmarks.</summary>
public static class BenchCommand
{
    public static int Run(BenchArgs args, ILogger log) => NotImplemented.Answer(log, "bench", args);
}
