using Microsoft.Extensions.Logging;
using PaFas.Host.Augmentation;
using PaFas.Host.Data;
using PaFas.Host.Training;

namespace PaFas.Host.Bench;

/// <summary>Peak resident memory of training: the real SFT trainer (<see cref="SftTrainer.Run"/>) for 20 steps at
/// batch 32 on PNRPS chains of the synthetic world, with the process's peak (VmHWM) reset just before; the
/// resident set is also sampled after every step. The figure is the whole process: .NET runtime, libtorch,
/// the decoded images, the model, AdamW state and the activations of a batch-32 step.</summary>
public static class PeakBench
{
    public const int Steps = 20, Batch = 32;

    private sealed class RssSampler : IProgress<TrainingProgress>
    {
        public double Max { get; private set; }
        public void Report(TrainingProgress value) => Max = Math.Max(Max, MemoryProbe.RssMiB());
    }

    public static IEnumerable<BenchEntry> Run(BenchSetup s, string manifest, string tmp, int threads, string device, ILogger log)
    {
        var chains = Path.Combine(tmp, "peak-chains.jsonl");
        Augmenter.Run(new AugmentOptions { Data = manifest, Out = chains, Paths = 10, Seed = s.Seed, Threads = threads }, GrammarStore.Default);
        GC.Collect();
        double before = MemoryProbe.RssMiB();
        bool reset = MemoryProbe.ResetPeak();
        var sampler = new RssSampler();
        var o = new SftOptions
        {
            Chains = chains, Out = Path.Combine(tmp, "peak-sft"), Force = true, Steps = Steps, Batch = Batch, ModelSize = s.Config.Name,
            Init = s.Checkpoint, Seed = s.Seed, Threads = threads, Device = device, NoTensorBoard = true, EvalEvery = 0, SaveEvery = 0,
            LogEvery = 10, Progress = sampler,
        };
        SftTrainer.Run(o, log);
        double peak = reset ? MemoryProbe.PeakMiB() ?? sampler.Max : sampler.Max;
        log.LogInformation("bench peak: RSS {Before:F0} MiB before training, peak {Peak:F0} MiB ({How})", before, peak, reset ? "VmHWM" : "sampled per step");
        return new[]
        {
            BenchEntry.Single("peak.rss_before_mib", "resident memory before training (runtime, libtorch, bench data)", "MiB", before),
            BenchEntry.Single("peak.train_rss_mib", $"peak resident memory, SFT trainer, {s.Config.Name}, batch {Batch}, {Steps} steps (target <= 2048)", "MiB", peak),
        };
    }
}
