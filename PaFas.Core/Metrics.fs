namespace PaFas.Core

// Conventions (ISO/IEC 30107-3), stated once:
// - live = bona fide = the positive class; Score is a live score (higher = more live);
// - a sample is accepted as live iff Score >= threshold;
// - APCER(attack) = attack presentations of that type accepted / attack presentations of that type;
//   APCER = max over attack types; BPCER = bona fide presentations rejected / bona fide presentations;
//   ACER = (APCER + BPCER) / 2 (community convention, with the worst APCER);
// - FAR = attacks accepted / attacks (all types pooled), FRR = BPCER, HTER = (FAR + FRR) / 2;
// - EER: over the unique scores as thresholds, the one minimising |FAR - FRR|; EER = (FAR + FRR) / 2 there;
// - AUC = Mann-Whitney U / (n_live * n_spoof): P(live score > spoof score) + P(tie) / 2;
// - TPR at FPR f: the largest TPR (lives accepted) of a threshold whose FAR <= f; undefined when there are fewer
//   than 1/f attack samples (FAR = f cannot be measured).

/// One scored sample. Attack is the attack type of a spoof (ignored for lives; "" reads as "Unknown Attack").
type Scored =
    { Score: float
      IsLive: bool
      Attack: string
      Domain: string }

/// The EER operating point.
type EerPoint =
    { Eer: float
      Threshold: float
      Far: float
      Frr: float }

/// One point of the ROC curve: accept iff score >= Threshold.
type RocPoint = { Fpr: float; Tpr: float; Threshold: float }

/// APCER of one attack type at the report's threshold.
type AttackStats =
    { Attack: string
      Count: int
      Apcer: float
      MeanScore: float }

/// Metrics of one domain's test samples at the report's (global) threshold. A metric is None when its
/// class is missing in the domain.
type DomainStats =
    { Domain: string
      Lives: int
      Spoofs: int
      Auc: float option
      Hter: float option
      Apcer: float option
      Bpcer: float option
      Acer: float option }

/// The metrics of a test set at one threshold.
type FasReport =
    { /// The decision threshold (accept as live iff score >= Threshold).
      Threshold: float
      /// True when Threshold is the validation set's EER threshold; false when it was set on the test set itself.
      ThresholdFromValidation: bool
      /// The validation set's EER (when given).
      ValEer: float option
      Lives: int
      Spoofs: int
      Auc: float
      /// The test set's own EER and its threshold (threshold-free summary, not the decision threshold).
      Eer: float
      EerThreshold: float
      Hter: float
      Far: float
      Frr: float
      Acer: float
      /// Max over attack types.
      Apcer: float
      Bpcer: float
      ApcerPerAttack: (string * float) list
      PerAttack: AttackStats list
      /// (FPR, TPR) for FPR = 1e-2, 1e-3, 1e-4; None when too few attack samples to measure that FPR.
      TprAtFpr: (float * float option) list
      PerDomain: DomainStats list
      /// Caveats, e.g. the threshold was set on the test set.
      Warnings: string list }

[<RequireQualifiedAccess>]
module Metrics =
    let UnknownAttack = "Unknown Attack"
    let private attackOf (s: Scored) = if System.String.IsNullOrWhiteSpace s.Attack then UnknownAttack else s.Attack.Trim()
    let private lives (xs: Scored[]) = xs |> Array.filter (fun s -> s.IsLive)
    let private spoofs (xs: Scored[]) = xs |> Array.filter (fun s -> not s.IsLive)
    let private frac (n: int) (d: int) = if d = 0 then nan else float n / float d

    /// Checks that the set is non-empty, has both classes and only finite scores.
    let validate (xs: Scored[]) : Result<unit, string> =
        if isNull xs || xs.Length = 0 then Error "no scored samples"
        else
            match xs |> Array.tryFindIndex (fun s -> System.Double.IsNaN s.Score || System.Double.IsInfinity s.Score) with
            | Some i -> Error(sprintf "sample %d has a non-finite score (%g)" i xs[i].Score)
            | None ->
                let nl = xs |> Array.filter (fun s -> s.IsLive) |> Array.length
                if nl = 0 then Error(sprintf "no live (bona fide) samples among %d" xs.Length)
                elif nl = xs.Length then Error(sprintf "no spoof (attack) samples among %d" xs.Length)
                else Ok()

    /// Lives rejected / lives (NaN without lives).
    let bpcer (threshold: float) (xs: Scored[]) =
        let l = lives xs
        frac (l |> Array.filter (fun s -> s.Score < threshold) |> Array.length) l.Length

    /// FRR = BPCER.
    let frr threshold xs = bpcer threshold xs

    /// Attacks accepted / attacks, all types pooled (NaN without attacks).
    let far (threshold: float) (xs: Scored[]) =
        let a = spoofs xs
        frac (a |> Array.filter (fun s -> s.Score >= threshold) |> Array.length) a.Length

    /// APCER of each attack type present, sorted by attack name.
    let apcerPerAttack (threshold: float) (xs: Scored[]) : (string * float) list =
        spoofs xs
        |> Array.groupBy attackOf
        |> Array.sortBy fst
        |> Array.map (fun (a, g) -> a, frac (g |> Array.filter (fun s -> s.Score >= threshold) |> Array.length) g.Length)
        |> List.ofArray

    /// The worst APCER over attack types (NaN without attacks).
    let apcer (threshold: float) (xs: Scored[]) =
        match apcerPerAttack threshold xs with
        | [] -> nan
        | l -> l |> List.map snd |> List.max

    /// (max APCER + BPCER) / 2.
    let acer threshold xs = (apcer threshold xs + bpcer threshold xs) / 2.0

    /// (FAR + FRR) / 2.
    let hter threshold xs = (far threshold xs + frr threshold xs) / 2.0

    /// AUC = Mann-Whitney U / (n_live * n_spoof) with tied pairs counting 1/2 (average ranks); NaN when a class
    /// is missing.
    let auc (xs: Scored[]) : float =
        let nl = (lives xs).Length
        let ns = xs.Length - nl
        if nl = 0 || ns = 0 then nan
        else
            let sorted = xs |> Array.sortBy (fun s -> s.Score)
            // Average 1-based rank over each run of equal scores; sum the ranks of lives.
            let mutable rankSum = 0.0
            let mutable i = 0
            while i < sorted.Length do
                let mutable j = i
                while j + 1 < sorted.Length && sorted[j + 1].Score = sorted[i].Score do j <- j + 1
                let avgRank = float (i + j + 2) / 2.0
                for k in i..j do
                    if sorted[k].IsLive then rankSum <- rankSum + avgRank
                i <- j + 1
            let u = rankSum - float nl * float (nl + 1) / 2.0
            u / (float nl * float ns)

    /// The ROC curve, FPR ascending: the first point (0, 0, +inf) accepts nothing, then one point per unique
    /// score as threshold (descending), the last accepts everything (1, 1, min score). Empty classes give NaN rates.
    let rocPoints (xs: Scored[]) : RocPoint[] =
        let nl = (lives xs).Length
        let ns = xs.Length - nl
        let desc = xs |> Array.sortByDescending (fun s -> s.Score)
        let pts = ResizeArray<RocPoint>()
        pts.Add { Fpr = frac 0 ns; Tpr = frac 0 nl; Threshold = infinity }
        let mutable tp = 0
        let mutable fp = 0
        let mutable i = 0
        while i < desc.Length do
            let t = desc[i].Score
            while i < desc.Length && desc[i].Score = t do
                if desc[i].IsLive then tp <- tp + 1 else fp <- fp + 1
                i <- i + 1
            pts.Add { Fpr = frac fp ns; Tpr = frac tp nl; Threshold = t }
        pts.ToArray()

    /// The ROC as (fpr, tpr, threshold) triples (for plotting), as `rocPoints`.
    let roc (xs: Scored[]) : (float * float * float)[] =
        rocPoints xs |> Array.map (fun p -> p.Fpr, p.Tpr, p.Threshold)

    /// The EER point over the unique scores as thresholds: minimises |FAR - FRR|, then (FAR + FRR) / 2, then the
    /// threshold (the lowest wins). NaN fields when a class is missing.
    let eer (xs: Scored[]) : EerPoint =
        let nl = (lives xs).Length
        let ns = xs.Length - nl
        if nl = 0 || ns = 0 || xs.Length = 0 then { Eer = nan; Threshold = nan; Far = nan; Frr = nan }
        else
            // roc points past the first: threshold t accepts exactly the scores >= t.
            rocPoints xs
            |> Array.skip 1
            |> Array.map (fun p -> { Eer = (p.Fpr + (1.0 - p.Tpr)) / 2.0; Threshold = p.Threshold; Far = p.Fpr; Frr = 1.0 - p.Tpr })
            |> Array.minBy (fun p -> abs (p.Far - p.Frr), p.Eer, p.Threshold)

    /// The FPRs reported by `report`.
    let standardFprs = [ 1e-2; 1e-3; 1e-4 ]

    /// The largest TPR whose FAR <= fpr, or None with fewer than 1/fpr attack samples.
    let tprAtFpr (fpr: float) (xs: Scored[]) : float option =
        let nl = (lives xs).Length
        let ns = xs.Length - nl
        if nl = 0 || ns = 0 || float ns * fpr < 1.0 - 1e-9 then None
        else
            let limit = fpr * float ns + 1e-9
            rocPoints xs
            |> Array.filter (fun p -> p.Fpr * float ns <= limit)
            |> Array.map (fun p -> p.Tpr)
            |> Array.max
            |> Some

    let private orNone (x: float) = if System.Double.IsNaN x then None else Some x

    let private domainStats (threshold: float) (domain: string) (xs: Scored[]) : DomainStats =
        let nl = (lives xs).Length
        let ap = apcer threshold xs
        let bp = bpcer threshold xs
        { Domain = domain
          Lives = nl
          Spoofs = xs.Length - nl
          Auc = orNone (auc xs)
          Hter = orNone (hter threshold xs)
          Apcer = orNone ap
          Bpcer = orNone bp
          Acer = orNone ((ap + bp) / 2.0) }

    /// Every metric of `test` at one threshold (the caller chose it).
    let reportAt (threshold: float) (fromValidation: bool) (valEer: float option) (test: Scored[]) : Result<FasReport, string> =
        match validate test with
        | Error e -> Error("test set: " + e)
        | Ok() ->
            let e = eer test
            let per = apcerPerAttack threshold test
            let attacks =
                spoofs test
                |> Array.groupBy attackOf
                |> Array.sortBy fst
                |> Array.map (fun (a, g) ->
                    { Attack = a
                      Count = g.Length
                      Apcer = frac (g |> Array.filter (fun s -> s.Score >= threshold) |> Array.length) g.Length
                      MeanScore = g |> Array.averageBy (fun s -> s.Score) })
                |> List.ofArray
            let domains =
                test
                |> Array.groupBy (fun s -> if isNull s.Domain then "" else s.Domain)
                |> Array.sortBy fst
                |> Array.map (fun (d, g) -> domainStats threshold d g)
                |> List.ofArray
            let ap = apcer threshold test
            let bp = bpcer threshold test
            let tprs = standardFprs |> List.map (fun f -> f, tprAtFpr f test)
            let warnings =
                [ if not fromValidation then
                      yield "the threshold was set on the test set (its EER threshold): HTER/ACER are optimistic"
                  for (f, t) in tprs do
                      if t.IsNone then
                          yield sprintf "TPR@FPR=%g not reported: %d attack samples (need >= %.0f)" f (test.Length - (lives test).Length) (1.0 / f) ]
            Ok
                { Threshold = threshold
                  ThresholdFromValidation = fromValidation
                  ValEer = valEer
                  Lives = (lives test).Length
                  Spoofs = (spoofs test).Length
                  Auc = auc test
                  Eer = e.Eer
                  EerThreshold = e.Threshold
                  Hter = hter threshold test
                  Far = far threshold test
                  Frr = frr threshold test
                  Acer = (ap + bp) / 2.0
                  Apcer = ap
                  Bpcer = bp
                  ApcerPerAttack = per
                  PerAttack = attacks
                  TprAtFpr = tprs
                  PerDomain = domains
                  Warnings = warnings }

    /// The FAS report of a test set. The threshold is the validation set's EER threshold when `val` is given
    /// (ThresholdFromValidation = true), else the test set's own EER threshold (false, with a warning).
    /// Errors for an empty set, a missing class or a non-finite score (naming the set and the sample index).
    let report (``val``: Scored[] option) (test: Scored[]) : Result<FasReport, string> =
        match ``val`` with
        | Some v ->
            match validate v with
            | Error e -> Error("validation set: " + e)
            | Ok() ->
                let e = eer v
                reportAt e.Threshold true (Some e.Eer) test
        | None ->
            match validate test with
            | Error e -> Error("test set: " + e)
            | Ok() -> reportAt (eer test).Threshold false None test
