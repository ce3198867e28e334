using Microsoft.Extensions.Logging;

namespace PaFas.Host.Commands;

/// <summary>The answer of a subcommand whose work has not landed yet: its grammar exists, it exits 2.</summary>
internal static class NotImplemented
{
    public static int Answer(ILogger log, string name, object _)
    {
        log.LogError("{Name}: not yet implemented", name);
        return 2;
    }
}
