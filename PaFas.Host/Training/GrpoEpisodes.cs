using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;

namespace PaFas.Host.Training;

/// <summary>One sampled completion of a GRPO step, from rollout to reward to advantage to loss: the prompt's
/// sample and face, the rollout, the token sequence the policy is trained on (prompt + completion + EOS when it
/// ended), the reward and the group-relative advantage.</summary>
public sealed record Episode(SampleRecord Sample, FaceTensors Face, Rollout Rollout, int[] Sequence, RewardBreakdown Reward, double Advantage)
{
    public int PromptLength => Rollout.Prompt.Length;
    /// <summary>Completion tokens the loss sees (the EOS included when the completion ended).</summary>
    public int CompletionTokens => Sequence.Length - PromptLength;
}

/// <summary>The G episodes of one prompt.</summary>
public sealed record EpisodeGroup(SampleRecord Sample, IReadOnlyList<Episode> Episodes);

/// <summary>How a step's episodes are sampled and scored: G completions per prompt with <paramref name="Decoding"/>,
/// the reward, and the core's advantage scale and eps.</summary>
public sealed record EpisodeSettings(int Group, GenerationOptions Decoding, RewardConfig Reward, AdvantageScale Scale, double AdvantageEps);

/// <summary>One GRPO step's episodes, grouped once by prompt (<see cref="Episodes"/> is the same episodes in
/// group order), with the core's statistics of their rewards and the time spent.</summary>
public sealed record EpisodeBatch(IReadOnlyList<EpisodeGroup> Groups, double ZeroStdFraction, double RewardStd,
    double GenerateSeconds, double RewardSeconds)
{
    public IReadOnlyList<Episode> Episodes { get; } = Groups.SelectMany(g => g.Episodes).ToList();

    /// <summary>Whether any advantage is non-zero (else the policy loss has no gradient).</summary>
    public bool HasSignal => Episodes.Any(e => e.Advantage != 0);
}

/// <summary>Samples a step's episodes with the current policy (<see cref="Rollouts.Run"/>, every completion of
/// the step in one batch) and scores them: rewards (<see cref="Rewards.score"/>), group-relative advantages,
/// zero-std fraction and reward std (<see cref="Grpo"/>).</summary>
public static class GrpoEpisodes
{
    public static EpisodeBatch Sample(PaFasModel model, Tokenizer tok, Grammar grammar, EpisodeSettings s,
        IReadOnlyList<SampleRecord> prompts, FaceCache faces)
    {
        var promptFaces = prompts.Select(faces.Get).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var faceRows = promptFaces.SelectMany(f => Enumerable.Repeat(f, s.Group)).ToList();
        var rollouts = Rollouts.Run(model, tok, faceRows, new RolloutOptions(s.Decoding, LiveScore: false));
        double generateSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var rewards = prompts.Select((p, i) =>
        {
            var truth = ListModule.OfSeq(p.Label);
            return Enumerable.Range(0, s.Group).Select(g => Rewards.score(grammar, s.Reward, truth, rollouts[i * s.Group + g].Text)).ToArray();
        }).ToArray();
        var totals = rewards.Select(g => g.Select(r => r.Total).ToArray()).ToArray();
        var advantages = Grpo.advantages(s.Scale, s.AdvantageEps, totals);
        var groups = prompts.Select((p, i) => new EpisodeGroup(p, Enumerable.Range(0, s.Group).Select(g =>
        {
            var r = rollouts[i * s.Group + g];
            return new Episode(p, promptFaces[i], r, r.Sequence(tok.Eos), rewards[i][g], advantages[i][g]);
        }).ToList())).ToList();
        return new EpisodeBatch(groups, Grpo.zeroStdFraction(totals), Grpo.std(StdConvention.Bessel, totals.SelectMany(t => t).ToArray()),
            generateSeconds, clock.Elapsed.TotalSeconds);
    }
}
