using Microsoft.FSharp.Collections;
using PaFas.Core;
using PaFas.Host.Data;
using PaFas.Host.Model;
using TorchSharp;

namespace PaFas.Host.Inference;

/// <summary>Image files of one face; any modality may be null (absent). At least one must be given.</summary>
public sealed record FaceImages(string? Rgb = null, string? Depth = null, string? Ir = null);

/// <summary>The verdict on one face. The decision is <paramref name="IsLive"/>, the live score against the threshold;
/// the written answer and the chain's conclusion are the model's explanation, and <paramref name="Agreement"/> says
/// whether they agree with the decision and with each other (a disagreement is never silent).</summary>
/// <param name="Label">The taxonomy path of the answer, e.g. ["Spoof Face", ..., "Flat Print Attack"]; empty when
/// the model's output did not parse.</param>
/// <param name="IsLive">The decision: <paramref name="LiveScore"/> at or above <see cref="FaceAntiSpoofer.Threshold"/>.</param>
/// <param name="LiveScore">P('Real Face') / (P('Real Face') + P('Spoof Face')) at the first answer label.</param>
/// <param name="Reasoning">The think text of the chain.</param>
/// <param name="Completion">The whole generated text.</param>
/// <param name="FormatValid">Whether the completion earns the format reward (the judge's format verdict).</param>
/// <param name="Judgement">The judge's reading of the completion (answer, conclusion, cited cues, contradictions).</param>
/// <param name="Agreement">How answer, chain conclusion and score verdict relate.</param>
public sealed record Prediction(
    IReadOnlyList<string> Label,
    bool IsLive,
    double LiveScore,
    string Reasoning,
    string Completion,
    bool FormatValid,
    Judgement Judgement,
    Agreement Agreement)
{
    /// <summary>The node of the chain's last forward step not ruled out later; null when the chain has none.</summary>
    public string? Conclusion => Judgement.Conclusion?.Value;

    /// <summary>Answer, chain conclusion and score verdict all agree.</summary>
    public bool Agrees => Agreement.All;

    /// <summary>The chain cites a cue and its opposite or has an ill-formed clause.</summary>
    public bool SelfContradictory => Judge.selfContradictory(Judgement);
}

/// <summary>The public prediction API for applications: load a trained PA-FAS model once, then call
/// <see cref="Predict(FaceImages)"/> or <see cref="PredictBatch(IReadOnlyList{FaceImages})"/>. Safe to call
/// from several threads at once (calls into the model are serialised; results do not depend on interleaving).</summary>
/// <example><code>
/// using var fas = FaceAntiSpoofer.Load("runs/pipeline/grpo");
/// var p = fas.Predict(new FaceImages(Rgb: "a_rgb.png", Depth: "a_depth.png", Ir: "a_ir.png"));
/// Console.WriteLine($"{(p.IsLive ? "live" : "spoof")} {p.LiveScore:F3} {string.Join(" > ", p.Label)}");
/// </code></example>
public sealed class FaceAntiSpoofer : IDisposable
{
    private readonly object _gate = new();
    private readonly LoadedModel _m;
    private readonly Grammar _grammar;
    private bool _disposed;

    private FaceAntiSpoofer(LoadedModel m, Grammar grammar, ThresholdChoice threshold, string source)
    {
        _m = m; _grammar = grammar; Threshold = threshold.Value; ThresholdFrom = threshold.From; Source = source;
    }

    /// <summary>The live-score threshold used for <see cref="Prediction.IsLive"/> (see <see cref="ThresholdChoice.Resolve"/>):
    /// the validation EER threshold stored by <c>pafas eval</c> (threshold.json), else 0.5.</summary>
    public double Threshold { get; }

    /// <summary>Where <see cref="Threshold"/> came from.</summary>
    public string ThresholdFrom { get; }

    /// <summary>The checkpoint folder that was loaded.</summary>
    public string Source { get; }

    /// <summary>Image side the model expects.</summary>
    public int ImageSize => _m.Config.ImageSize;

    /// <summary>Maximum completion length used for generation.</summary>
    public int MaxNewTokens { get; set; } = 256;

    /// <summary>Loads a run folder (its best/ or last/ or final checkpoint) or a checkpoint folder.</summary>
    /// <param name="path">A run folder written by <c>pafas sft</c>/<c>pafas grpo</c>/<c>pafas pipeline</c>, or a checkpoint.</param>
    /// <param name="device">"cpu" (default) or "cuda" (CUDA builds only).</param>
    /// <param name="threshold">Overrides the stored threshold.</param>
    /// <param name="thresholdFrom">An eval output folder or threshold.json to take the threshold from.</param>
    public static FaceAntiSpoofer Load(string path, string device = "cpu", double? threshold = null, string thresholdFrom = "")
    {
        var dir = CheckpointFolder.Resolve(path);
        var t = ThresholdChoice.Resolve(path, dir, threshold, thresholdFrom); // before the model: a bad file fails at once
        var dev = TorchRuntime.ResolveDevice(device);
        var loaded = LoadedModel.Load(dir, dev);
        return new FaceAntiSpoofer(loaded, GrammarStore.Default, t, dir);
    }

    /// <summary>Predicts one face from image files.</summary>
    public Prediction Predict(FaceImages images) => PredictBatch(new[] { images })[0];

    /// <summary>Predicts one face from decoded tensors.</summary>
    public Prediction Predict(FaceTensors face) => PredictBatch(new[] { face })[0];

    /// <summary>Predicts many faces from image files (decoded, then run in one batch).</summary>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<FaceImages> images)
    {
        var faces = images.Select((im, i) =>
        {
            if (im.Rgb == null && im.Depth == null && im.Ir == null)
                throw new ArgumentException($"face {i}: give at least one of RGB, depth, IR");
            var rec = new SampleRecord($"input{i}", im.Rgb, im.Depth, im.Ir, new[] { TaxonomyModule.LiveName }, "", "", null, $"input {i}");
            return ImageLoader.Load(rec, ImageSize);
        }).ToList();
        return PredictBatch(faces);
    }

    /// <summary>Predicts many faces from decoded tensors in one batch (greedy chains).</summary>
    public IReadOnlyList<Prediction> PredictBatch(IReadOnlyList<FaceTensors> faces)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (faces.Count == 0) return Array.Empty<Prediction>();
        Rollout[] raw;
        lock (_gate) raw = _m.Run(faces, MaxNewTokens);
        var result = new Prediction[faces.Count];
        for (int i = 0; i < faces.Count; i++)
            result[i] = Interpret(raw[i].Text, raw[i].LiveScore);
        return result;
    }

    private Prediction Interpret(string text, double score)
    {
        var j = Judge.completion(_grammar, text);
        var live = score >= Threshold;
        return new Prediction(j.Answer?.Value.ToArray() ?? Array.Empty<string>(), live, score, j.Think, text,
            Judge.formatValid(j), j, Judge.agreement(_grammar, j, live));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _m.Dispose();
    }
}
