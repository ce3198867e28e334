using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas grpo</c>: GRPO from an SFT checkpoint.</summary>
public static class GrpoCommand
{
    public static int Run(GrpoArgs args, ILogger log) => NotImplemented.Answer(log, "grpo", args);
}
