using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas inspect</c>: manifest counts and file checks.</summary>
public static class InspectCommand
{
    public static int Run(InspectArgs args, ILogger log) => NotImplemented.Answer(log, "inspect", args);
}
