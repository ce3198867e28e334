namespace PaFas.Host.Cli;

/// <summary>The default files and folders of the commands: the layout that running them without paths makes under
/// runs/, each command reading what the one before it wrote (synth -> annotate -> augment -> sft -> grpo -> eval).</summary>
public static class DefaultPaths
{
    public const string Synth = "runs/synth";
    public const string Manifest = Synth + "/manifest.jsonl";
    public const string Annotations = Synth + "/annotations.jsonl";
    public const string Chains = "runs/chains.jsonl";
    public const string Train = "runs/train";
    public const string Sft = "runs/sft";
    public const string Grpo = "runs/grpo";
    /// <summary>The model that eval, predict, score and export use.</summary>
    public const string Model = Grpo;
    public const string Eval = "runs/eval";
    public const string Scores = "runs/scores.jsonl";
    public const string CompletionScores = "runs/completion-scores";
    public const string Export = "runs/export";
    public const string Splits = "runs/splits";
    public const string Pipeline = "runs/pipeline";
    public const string Bench = "runs/bench";
}
