using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas export</c>: model export.</summary>
public static class ExportCommand
{
    public static int Run(ExportArgs args, ILogger log) => NotImplemented.Answer(log, "export", args);
}
