namespace PaFas.Core

/// What is known of a sample when its completion is measured against the truth.
type SampleTruth =
    { /// The true label; a spoof of unknown attack has the partial label ['Spoof Face'].
      Label: Label
      /// The ground-truth cue annotation; None where the manifest has none (faithfulness is then not measured).
      Cues: Set<Cue> option
      /// The modalities the model was shown.
      Available: Availability }

/// One completion measured against the truth and the live-score verdict.
type Diagnosis =
    { Judgement: Judgement
      /// The live-score verdict (score >= threshold).
      ScoreLive: bool
      Agreement: Agreement
      /// The written answer is the true label; None when the truth is not a full path.
      AnswerLeaf: bool option
      /// The written answer's live/spoof is the truth's (false when it says neither).
      AnswerLive: bool
      /// The chain's conclusion is the true leaf (false without a conclusion); None when the truth is not a full path.
      ConclusionLeaf: bool option
      /// The conclusion's live/spoof is the truth's (false without a conclusion).
      ConclusionLive: bool
      /// Cited cues that are in the ground-truth annotation; None where the truth has no cues.
      TrueCited: int option
      /// Cites a cue of a modality the model was not shown.
      CitesAbsentModality: bool }

/// A count of hits out of a total; its value is NaN when the total is 0 (printed "n/a", never 0%).
type Rate =
    { Hits: int
      Of: int }
    member r.Value = if r.Of = 0 then nan else float r.Hits / float r.Of

/// The reasoning measures of an evaluation (issue 16's diagnostics): where along truth -> chain -> answer ->
/// score the signal is lost. Rates are over all chains unless the field says otherwise.
type ReasoningSummary =
    { Chains: int
      FormatFailures: Rate
      /// Format failure kinds (Judge.failureKind) with their counts, most frequent first.
      FailureKinds: (string * int) list
      /// Written answer = true label (over chains whose truth is a full path).
      AnswerLeaf: Rate
      /// Written answer's live/spoof = truth's.
      AnswerLive: Rate
      /// Chain's conclusion = true leaf (over chains whose truth is a full path; no conclusion counts as wrong).
      ConclusionLeaf: Rate
      ConclusionLive: Rate
      /// Chains that have a conclusion.
      WithConclusion: int
      /// Conclusion = the answer's leaf (a chain missing either is not consistent).
      Consistency: Rate
      /// Answer's live/spoof = the live-score verdict.
      AnswerScoreAgreement: Rate
      /// Conclusion's live/spoof = the live-score verdict.
      ConclusionScoreAgreement: Rate
      /// Answer, conclusion and score verdict all agree.
      AllAgree: Rate
      /// Chains citing a cue and its opposite, or with an ill-formed clause.
      SelfContradiction: Rate
      /// Chains citing a cue and its opposite.
      OpposedCues: Rate
      /// Chains with an ill-formed clause.
      IllFormed: Rate
      /// Cited cues that are true, over the cues cited by chains of samples with a ground-truth annotation.
      Faithfulness: Rate
      /// Samples with a ground-truth cue annotation (0: faithfulness is n/a).
      WithTruthCues: int
      AbsentModality: Rate }

[<RequireQualifiedAccess>]
module Diagnosis =
    /// Measures one judged completion against the truth and the live-score verdict.
    let assess (g: Grammar) (truth: SampleTruth) (scoreLive: bool) (j: Judgement) : Diagnosis =
        let full = Taxonomy.isValidLabel g.Taxonomy truth.Label
        let truthLive = Judge.liveOf truth.Label
        let sameLive (x: bool option) = x.IsSome && x = truthLive
        { Judgement = j
          ScoreLive = scoreLive
          Agreement = Judge.agreement g j scoreLive
          AnswerLeaf = if full then Some(j.Answer = Some truth.Label) else None
          AnswerLive = sameLive (Judge.answerLive j)
          ConclusionLeaf = if full then Some(j.Conclusion = Some(Taxonomy.leaf truth.Label)) else None
          ConclusionLive = sameLive (Judge.conclusionLive g j)
          TrueCited = truth.Cues |> Option.map (fun cs -> j.Cited |> List.filter cs.Contains |> List.length)
          CitesAbsentModality = j.Cited |> List.exists (fun c -> not (Availability.has c.Modality truth.Available)) }

    let private rate (xs: bool seq) =
        let xs = Seq.toArray xs
        { Hits = xs |> Array.filter id |> Array.length; Of = xs.Length }

    /// Aggregates diagnoses.
    let summarize (ds: Diagnosis seq) : ReasoningSummary =
        let ds = Seq.toArray ds
        let js = ds |> Array.map (fun d -> d.Judgement)
        let withTruth = ds |> Array.filter (fun d -> d.TrueCited.IsSome)
        { Chains = ds.Length
          FormatFailures = rate (js |> Seq.map (Judge.formatValid >> not))
          FailureKinds =
            js
            |> Array.choose (fun j -> j.Failure |> Option.map Judge.failureKind)
            |> Array.countBy id
            |> Array.sortBy (fun (k, n) -> -n, k)
            |> List.ofArray
          AnswerLeaf = rate (ds |> Seq.choose (fun d -> d.AnswerLeaf))
          AnswerLive = rate (ds |> Seq.map (fun d -> d.AnswerLive))
          ConclusionLeaf = rate (ds |> Seq.choose (fun d -> d.ConclusionLeaf))
          ConclusionLive = rate (ds |> Seq.map (fun d -> d.ConclusionLive))
          WithConclusion = js |> Array.filter (fun j -> j.Conclusion.IsSome) |> Array.length
          Consistency = rate (ds |> Seq.map (fun d -> d.Agreement.ConclusionIsAnswer = Some true))
          AnswerScoreAgreement = rate (ds |> Seq.map (fun d -> d.Agreement.AnswerAgreesWithScore = Some true))
          ConclusionScoreAgreement = rate (ds |> Seq.map (fun d -> d.Agreement.ConclusionAgreesWithScore = Some true))
          AllAgree = rate (ds |> Seq.map (fun d -> d.Agreement.All))
          SelfContradiction = rate (js |> Seq.map Judge.selfContradictory)
          OpposedCues = rate (js |> Seq.map (fun j -> not j.Contradictions.IsEmpty))
          IllFormed = rate (js |> Seq.map (fun j -> not j.IllFormed.IsEmpty))
          Faithfulness =
            { Hits = withTruth |> Array.sumBy (fun d -> d.TrueCited |> Option.defaultValue 0)
              Of = withTruth |> Array.sumBy (fun d -> d.Judgement.Cited.Length) }
          WithTruthCues = withTruth.Length
          AbsentModality = rate (ds |> Seq.map (fun d -> d.CitesAbsentModality)) }
