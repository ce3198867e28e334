using PaFas.Host.Data;

namespace PaFas.Host.Evaluation;

/// <summary>The metrics need live and spoof samples in the test set (AUC, APCER, BPCER) and in the validation set
/// (its EER threshold): a split without one of them is an error naming its file, found before any inference.</summary>
public static class ClassCheck
{
    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="file"/> when <paramref name="samples"/>
    /// lacks live or spoof samples.</summary>
    public static void RequireBoth(IReadOnlyCollection<SampleRecord> samples, string file, string what)
    {
        int live = samples.Count(s => s.IsLive);
        if (live > 0 && live < samples.Count) return;
        throw new InvalidDataException(
            $"{file}: the {what} split has no {(live == 0 ? "live (bona fide)" : "spoof (attack)")} sample among its {samples.Count}; " +
            (what == "validation" ? "its EER threshold needs both classes" : "the metrics need both classes"));
    }
}
