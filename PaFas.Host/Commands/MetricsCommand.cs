using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas metrics</c>: FAS metrics from a scores file.</summary>
public static class MetricsCommand
{
    public static int Run(MetricsArgs args, ILogger log) => NotImplemented.Answer(log, "metrics", args);
}
