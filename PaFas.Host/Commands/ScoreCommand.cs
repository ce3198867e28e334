using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas score</c>: live scores of a manifest.</summary>
public static class ScoreCommand
{
    public static int Run(ScoreArgs args, ILogger log) => NotImplemented.Answer(log, "score", args);
}
