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
                throw new InvalidOperationException(
                    "--device cuda was asked for, but CUDA is not available: this build uses the CPU libtorch " +
                    "(build with -p:TorchBackend=cuda on a machine with an NVIDIA driver to use a GPU).");
            return torch.device(n);
        }
        throw new ArgumentException($"unknown device '{name}' (use cpu or cuda)");
    }

    /// <summary>Sets libtorch's intra-op threads (0 = leave libtorch's default).</summary>
    public static void SetThreads(int threads)
    {
        EnsureLoaded();
        if (threads > 0) torch.set_num_threads(threads);
    }
}
