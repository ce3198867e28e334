namespace PaFas.Host.IO;

/// <summary>The upper bound of <c>--threads</c>: the machine's cores times <see cref="Factor"/>. More threads than
/// that only add contention (1,000 libtorch threads made a 1.5 s command take 25.7 s; 100,000 hung past 120 s), so
/// a larger value is refused as a bad command line before any work.</summary>
public static class ThreadLimit
{
    public const int Factor = 4;

    /// <summary>The largest thread count accepted on this machine.</summary>
    public static int Max => Environment.ProcessorCount * Factor;

    /// <summary>Throws <see cref="UsageException"/> when <paramref name="threads"/> is negative or above <see cref="Max"/>.</summary>
    public static void Check(int threads)
    {
        if (threads < 0) throw new UsageException($"--threads must be 0 (libtorch's default) or more, got {threads}");
        if (threads > Max)
            throw new UsageException(
                $"--threads {threads} is more than {Factor} x the {Environment.ProcessorCount} cores of this machine (at most {Max}; 0 = libtorch's default)");
    }
}
