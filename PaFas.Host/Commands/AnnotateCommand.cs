using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas annotate</c>: cue annotations from the images.</summary>
public static class AnnotateCommand
{
    public static int Run(AnnotateArgs args, ILogger log) => NotImplemented.Answer(log, "annotate", args);
}
