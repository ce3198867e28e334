using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas eval</c>: evaluation and report.</summary>
public static class EvalCommand
{
    public static int Run(EvalArgs args, ILogger log) => NotImplemented.Answer(log, "eval", args);
}
