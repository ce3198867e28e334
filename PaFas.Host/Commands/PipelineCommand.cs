using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas pipeline</c>: the end-to-end job.</summary>
public static class PipelineCommand
{
    public static int Run(PipelineArgs args, ILogger log) => NotImplemented.Answer(log, "pipeline", args);
}
