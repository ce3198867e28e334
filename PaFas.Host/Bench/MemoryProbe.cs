using System.Globalization;

namespace PaFas.Host.Bench;

/// <summary>Resident memory of this process from /proc/self/status (Linux): current (VmRSS) and peak (VmHWM),
/// in MiB, and a reset of the peak (writing 5 to /proc/self/clear_refs). Elsewhere the peak falls back to the
/// working set sampled by the caller.</summary>
public static class MemoryProbe
{
    /// <summary>VmRSS in MiB, or the .NET working set where /proc is absent.</summary>
    public static double RssMiB() => Read("VmRSS:") ?? System.Diagnostics.Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    /// <summary>VmHWM (peak resident set) in MiB, or null where /proc is absent.</summary>
    public static double? PeakMiB() => Read("VmHWM:");

    /// <summary>Resets the peak to the current resident set; false when the kernel does not allow it.</summary>
    public static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException) { return false; }
    }

    private static double? Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var parts = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return double.Parse(parts[0], CultureInfo.InvariantCulture) / 1024.0;   // kB
            }
        return null;
    }
}
