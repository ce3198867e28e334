namespace PaFas.Host.IO;

/// <summary>A command line that parses but cannot be run as given: an output that is one of the command's inputs,
/// an output path of the wrong kind (a folder where a file is expected), <c>--threads</c> above the limit, a device
/// this build lacks, a run folder that already holds a run without <c>--resume</c> / <c>--force</c>. The program
/// reports it on one line and exits 2 (like a grammar error); the fix is always a change to the command line.</summary>
public sealed class UsageException : ArgumentException
{
    public UsageException(string message) : base(message) { }
}
