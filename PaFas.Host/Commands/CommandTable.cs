using PaFas.Host.Augmentation;
using PaFas.Host.Cli;
using PaFas.Host.Data;
using PaFas.Host.Evaluation;
using PaFas.Host.Pipeline;
using PaFas.Host.Training;

namespace PaFas.Host.Commands;

/// <summary>The subcommands of <c>pafas</c>, in the order of the help: name, summary, options type, handler.</summary>
public static class CommandTable
{
    public static readonly IReadOnlyList<CommandSpec> All = new[]
    {
        CommandSpec.Of<SynthOptions>("synth", "write the synthetic multimodal face world (PNGs + manifest.jsonl)", SynthCommand.Run),
        CommandSpec.Of<InspectOptions>("inspect", "count a manifest's samples by domain, label, attack, modality; check files", InspectCommand.Run),
        CommandSpec.Of<AnnotateOptions>("annotate", "compute per-modality cue annotations from the images", AnnotateCommand.Run),
        CommandSpec.Of<AugmentOptions>("augment", "manifest + cues -> PNRPS reasoning chains with answer shuffling (JSONL)", AugmentCommand.Run),
        CommandSpec.Of<PretrainOptions>("pretrain", "perception pretraining on randomized-sensor faces (describe the modalities; no FAS labels)", PretrainCommand.Run),
        CommandSpec.Of<SftOptions>("sft", "supervised fine-tuning on augmented chains", SftCommand.Run),
        CommandSpec.Of<GrpoOptions>("grpo", "GRPO from an SFT checkpoint", GrpoCommand.Run),
        CommandSpec.Of<EvalOptions>("eval", "evaluate a model on a test set: HTER, AUC, ACER, APCER, BPCER, EER, report", EvalCommand.Run),
        CommandSpec.Of<PredictOptions>("predict", "verdict, taxonomy path, live score and reasoning for faces", PredictCommand.Run),
        CommandSpec.Of<MetricsOptions>("metrics", "FAS metrics from any system's scores (JSONL or CSV)", MetricsCommand.Run),
        CommandSpec.Of<ScoreOptions>("score", "live scores of a manifest's samples (for pafas metrics), or rewards of any model's completions", ScoreCommand.Run),
        CommandSpec.Of<ExportOptions>("export", "export training data for TRL/LLaVA/LLaMA-Factory/VLM-R1 or the model as safetensors", ExportCommand.Run),
        CommandSpec.Of<PipelineOptions>("pipeline", "the whole job: synth, annotate, augment, SFT, GRPO, eval on the held-out domain", PipelineCommand.Run),
        CommandSpec.Of<SplitOptions>("split", "a protocol's train / validation / test manifests from one manifest", SplitCommand.Run),
        CommandSpec.Of<BenchOptions>("bench", "throughput of synth, augment and the model", BenchCommand.Run),
    };
}
