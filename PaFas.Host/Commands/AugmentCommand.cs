using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas augment</c>: PNRPS chains with answer shuffling.</summary>
public static class AugmentCommand
{
    public static int Run(AugmentArgs args, ILogger log) => NotImplemented.Answer(log, "augment", args);
}
