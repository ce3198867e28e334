using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas predict</c>: predictions for faces.</summary>
public static class PredictCommand
{
    public static int Run(PredictArgs args, ILogger log) => NotImplemented.Answer(log, "predict", args);
}
