using Microsoft.Extensions.Logging;
using PaFas.Core;

namespace PaFas.Host.Commands;

/// <summary><c>pafas synth</c>: write the synthetic multimodal face world.</summary>
public static class SynthCommand
{
    public static int Run(SynthArgs args, ILogger log) => NotImplemented.Answer(log, "synth", args);
}
