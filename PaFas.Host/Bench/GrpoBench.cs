using Microsoft.Extensions.Logging;
using PaFas.Host.Training;

namespace PaFas.Host.Bench;

/// <summary>GRPO steps of the real trainer (<see cref="GrpoTrainer.Run"/>) from the bench model, on the synthetic
/// world: P = 4 prompts x G = 8 completions (the demo pipeline's shape), temperature 1, at most 128 new tokens
/// (the demo's chains are about 130 tokens), one update pass (mu = 1). The trainer records each step's split in
/// metrics.jsonl (<c>time_rollout_s</c> = sampling the completions, <c>time_reward_s</c> = rewards and
/// advantages, <c>time_update_s</c> = forward + backward + optimiser); the first step is a warm-up. The update runs
/// even when a group's rewards tie (a fresh model's usually all do), as in a step with a learning signal.</summary>
public static class GrpoBench
{
    public const int Prompts = 4, Group = 8, MaxNewTokens = 128;

    public static IEnumerable<BenchEntry> Run(BenchSetup s, string manifest, string tmp, int repeat, int threads, string device, ILogger log)
    {
        var init = s.CheckpointOrFresh(tmp);
        var outDir = Path.Combine(tmp, "grpo");
        GrpoTrainer.Run(new GrpoOptions
        {
            Init = init, Data = manifest, Out = outDir, Force = true, Steps = repeat + 1, Prompts = Prompts, Group = Group,
            MaxNew = MaxNewTokens, Seed = s.Seed, Threads = threads, Device = device, NoTensorBoard = true,
            EvalEvery = 0, SaveEvery = 0, LogEvery = 1, LogSamples = 0, AlwaysUpdate = true,
        }, log);
        var steps = MetricsLog.Read(Path.Combine(outDir, "metrics.jsonl")).Where(d => d.ContainsKey("time_rollout_s")).Skip(1).ToList();
        if (steps.Count == 0) throw new InvalidOperationException($"{outDir}/metrics.jsonl: no timed GRPO step");
        double[] F(string k) => steps.Select(d => d[k]).ToArray();
        var rollout = F("time_rollout_s");
        var reward = F("time_reward_s");
        var update = F("time_update_s");
        var total = steps.Select(d => d["time_rollout_s"] + d["time_reward_s"] + d["time_update_s"]).ToArray();
        string shape = $"{s.Config.Name}, {Prompts} prompts x G = {Group}, up to {MaxNewTokens} new tokens";
        return new[]
        {
            BenchEntry.Of("grpo.step_s", $"GRPO step ({shape})", "s", total),
            BenchEntry.Of("grpo.rollout_s", "GRPO rollout (sampling G completions per prompt, KV cache)", "s", rollout),
            BenchEntry.Of("grpo.reward_s", "GRPO rewards + group advantages", "s", reward),
            BenchEntry.Of("grpo.update_s", "GRPO update (forward + backward + AdamW)", "s", update),
            BenchEntry.Of("grpo.rollout_fraction", "GRPO rollout / step (target <= 0.50)", "ratio", rollout.Zip(total, (r, t) => r / t)),
            BenchEntry.Of("grpo.completion_tokens", "GRPO mean completion length", "tokens", F("completion_length")),
        };
    }
}
