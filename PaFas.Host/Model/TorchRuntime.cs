using TorchSharp;
using static TorchSharp.torch;

namespace PaFas.Host.Model;

/// <summary>Loads libtorch once, with a clear message when the native library cannot be loaded, and picks
/// the compute device.</summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _ready;

    /// <summary>Makes sure TorchSharp's native libraries are loaded; throws <see cref="InvalidOperationException"/>
    /// with the cause and the fix when they are not.</summary>
    public static void EnsureLoaded()
    {
        if (_ready) return;
        lock (Gate)
        {
            if (_ready) return;
            try
            {
                NativeHeap.Configure();
                using var probe = torch.zeros(1);
                _ready = true;
            }
            catch (Exception e)
            {
                var inner = e;
                while (inner.InnerException != null) inner = inner.InnerException;
                throw new InvalidOperationException(
                    "TorchSharp's native library (libLibTorchSharp.so / libtorch) could not be loaded: " + inner.Message +
                    ". On Debian 12 / Ubuntu 22.04 the build marks GLIBCXX_3.4.32 weak in the copied library " +
                    "(Directory.Build.targets); rebuild without -p:PaFasPatchLibTorchSharp=false, and check with " +
                    "`ldd -r bin/Release/net10.0/libLibTorchSharp.so`.", e);
            }
        }
    }

    /// <summary>Resolves "cpu" or "cuda[:n]" to a device; a clear error when CUDA is asked for but absent.</summary>
    public static Device ResolveDevice(string? name)
    {
        EnsureLoaded();
        var n = string.IsNullOrWhiteSpace(name) ? "cpu" : name.Trim().ToLowerInvariant();
        if (n == "cpu") return CPU;
        if (n.StartsWith("cuda"))
        {
            if (!torch.cuda.is_available())
                throw new PaFas.Host.IO.UsageException(
                    "--device cuda was asked for, but CUDA is not available: this build uses the CPU libtorch " +
                    "(build with -p:TorchBackend=cuda on a machine with an NVIDIA driver to use a GPU).");
            return torch.device(n);
        }
        throw new PaFas.Host.IO.UsageException($"unknown device '{name}' (use cpu or cuda)");
    }

    /// <summary>Sets libtorch's intra-op threads (0 = leave libtorch's default); more than
    /// <see cref="PaFas.Host.IO.ThreadLimit.Max"/> is refused.</summary>
    public static void SetThreads(int threads)
    {
        PaFas.Host.IO.ThreadLimit.Check(threads);
        EnsureLoaded();
        if (threads > 0) torch.set_num_threads(threads);
    }
}

/// <summary>Keeps libtorch's freed tensor memory in the process (glibc malloc on Linux). By default glibc serves
/// blocks above a moving threshold (at most 32 MiB) with fresh mmap'd pages and trims the top of the heap when
/// enough is free, so every training step gives its activations back to the kernel and faults them in again,
/// zeroed, on the next step: measured here, a batch-32 forward pass of the small preset took 1.1 s with
/// gradients against 0.5 s without (where intermediates are freed and reused at once), with 440,000 minor page
/// faults per run. Fixing the mmap threshold at its maximum and not trimming removes that (0.51 s, 290,000 faults);
/// the peak resident memory is unchanged (freed blocks are reused, not added). Skipped when the user set any
/// MALLOC_* variable or PAFAS_MALLOC_TUNING=0, and on other C libraries and systems.</summary>
internal static class NativeHeap
{
    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    /// <summary>Whether the tuning was applied in this process.</summary>
    public static bool Applied { get; private set; }

    public static void Configure()
    {
        if (Applied || !OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable("PAFAS_MALLOC_TUNING") == "0") return;
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string k && k.StartsWith("MALLOC_", StringComparison.Ordinal)) return;
        try
        {
            Applied = Mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1
                      & Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1
                      & Mallopt(M_TOP_PAD, 64 << 20) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }
}

