namespace PaFas.Core

/// Reasoning quality of generated chains, where ground-truth cues exist (the synthetic world).
type ChainQuality =
    { /// The completion parsed and its answer is a valid taxonomy label.
      FormatValid: bool
      /// Cues cited by observation and reflection clauses.
      Cited: int
      /// Of those, cues that are true for the sample (in its ground-truth annotation).
      TrueCited: int
      /// Cites a modality the sample does not have.
      CitesAbsentModality: bool
      /// The chain's own conclusion (last forward node not ruled out) is the answer's leaf; None when the chain
      /// has no conclusion or did not parse.
      Consistent: bool option
      /// Clauses the grammar does not know.
      UnknownClauses: int }

type QualitySummary =
    { Chains: int
      FormatFailureRate: float
      /// TrueCited / Cited over all chains (NaN-free: 0 cited gives 0 and Cited = 0 says so).
      Faithfulness: float
      CitedTotal: int
      /// Fraction of chains with a conclusion whose conclusion agrees with their answer.
      Consistency: float
      ChainsWithConclusion: int
      AbsentModalityRate: float
      UnknownClauseRate: float }

[<RequireQualifiedAccess>]
module Quality =
    /// Judges one completion against the sample's ground-truth cues and available modalities.
    let judge (g: Grammar) (truthCues: Set<Cue>) (available: Set<Modality>) (text: string) : ChainQuality =
        match Grammar.parse g text with
        | Error _ ->
            { FormatValid = false; Cited = 0; TrueCited = 0; CitesAbsentModality = false; Consistent = None; UnknownClauses = 0 }
        | Ok c ->
            let known = c.Clauses |> List.choose (function Known s -> Some s | Unknown _ -> None)
            let cited = Grammar.citedCues known
            let conclusion = Grammar.conclusion known
            { FormatValid = Taxonomy.isValidLabel g.Taxonomy c.Answer && c.AnswerClosed
              Cited = cited.Length
              TrueCited = cited |> List.filter truthCues.Contains |> List.length
              CitesAbsentModality = cited |> List.exists (fun cue -> not (available.Contains cue.Modality))
              Consistent = conclusion |> Option.map (fun n -> n = Taxonomy.leaf c.Answer)
              UnknownClauses = c.Clauses.Length - known.Length }

    let private frac (n: int) (d: int) = if d = 0 then 0.0 else float n / float d

    /// Aggregates chain judgements.
    let summarize (qs: ChainQuality seq) : QualitySummary =
        let qs = Seq.toArray qs
        let cited = qs |> Array.sumBy (fun q -> q.Cited)
        let withConc = qs |> Array.filter (fun q -> q.Consistent.IsSome)
        { Chains = qs.Length
          FormatFailureRate = frac (qs |> Array.filter (fun q -> not q.FormatValid) |> Array.length) qs.Length
          Faithfulness = frac (qs |> Array.sumBy (fun q -> q.TrueCited)) cited
          CitedTotal = cited
          Consistency = frac (withConc |> Array.filter (fun q -> q.Consistent = Some true) |> Array.length) withConc.Length
          ChainsWithConclusion = withConc.Length
          AbsentModalityRate = frac (qs |> Array.filter (fun q -> q.CitesAbsentModality) |> Array.length) qs.Length
          UnknownClauseRate = frac (qs |> Array.filter (fun q -> q.UnknownClauses > 0) |> Array.length) qs.Length }
