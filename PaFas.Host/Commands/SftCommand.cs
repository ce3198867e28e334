using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas sft</c>: supervised fine-tuning.</summary>
public static class SftCommand
{
    public static int Run(SftArgs args, ILogger log) => NotImplemented.Answer(log, "sft", args);
}
