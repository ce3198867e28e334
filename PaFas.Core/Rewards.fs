namespace PaFas.Core

/// Weights of the GRPO reward R = FormatWeight * R_format + ClassWeight * R_classification (the paper: 1 and 1)
/// + ConclusionWeight * R_conclusion + ConsistencyWeight * R_consistency + CoherenceWeight * R_coherence (beyond the
/// paper; 0, 0 and 0 by default).
type RewardConfig =
    { FormatWeight: float
      ClassWeight: float
      Mode: ClassMode
      /// Weight of the chain's conclusion scored against the truth like the answer (same mode).
      ConclusionWeight: float
      /// Weight of consistency: 1 when the chain's conclusion is the answer's leaf.
      ConsistencyWeight: float
      /// Weight of coherence: 1 when the completion is well-formed and its chain does not contradict itself.
      CoherenceWeight: float }

/// The rewards (each in [0, 1]) and their weighted sum.
type RewardBreakdown =
    { Format: float
      Classification: float
      /// Credit of the chain's conclusion against the truth (0 without a conclusion).
      Conclusion: float
      /// 1 when the conclusion is the answer's leaf, else 0.
      Consistency: float
      /// 1 when the format is valid and the chain cites no cue with its opposite and has no ill-formed clause.
      Coherence: float
      Total: float }

/// GRPO rewards on raw completion text. Every function is total: any string (null included) gives a number.
[<RequireQualifiedAccess>]
module Rewards =
    /// Format and classification weighted 1 and 1, exact-leaf classification (the paper's R = R_format + R_class).
    let defaultConfig =
        { FormatWeight = 1.0; ClassWeight = 1.0; Mode = ExactLeaf; ConclusionWeight = 0.0; ConsistencyWeight = 0.0; CoherenceWeight = 0.0 }

    /// The paper's weights (format 1, classification 1) in the given mode.
    let paper (mode: ClassMode) = { defaultConfig with Mode = mode }

    /// Reads "exact" (also "exact-leaf", "leaf"), "binary" (also "live-spoof"), "hierarchical" (also "prefix").
    let parseMode (s: string) : Result<ClassMode, string> =
        match (if isNull s then "" else s.Trim().ToLowerInvariant()) with
        | "exact" | "exact-leaf" | "exactleaf" | "leaf" -> Ok ExactLeaf
        | "binary" | "live-spoof" | "livespoof" -> Ok Binary
        | "hierarchical" | "prefix" | "hier" -> Ok Hierarchical
        | other -> Error(sprintf "unknown classification reward mode '%s' (expected exact, binary or hierarchical)" other)

    /// The name `parseMode` reads back.
    let modeText =
        function
        | ExactLeaf -> "exact"
        | Binary -> "binary"
        | Hierarchical -> "hierarchical"

    /// Both rewards and the weighted total of a judged completion.
    let ofJudgement (g: Grammar) (cfg: RewardConfig) (truth: Label) (j: Judgement) : RewardBreakdown =
        let f = if Judge.formatValid j then 1.0 else 0.0
        let c = Judge.credit g cfg.Mode truth j
        let k =
            match Judge.conclusionLabel g j with
            | Some l -> Judge.labelCredit g cfg.Mode truth l
            | None -> 0.0
        let s = if Judge.consistent j = Some true then 1.0 else 0.0
        let h = if f = 1.0 && not (Judge.selfContradictory j) then 1.0 else 0.0
        { Format = f
          Classification = c
          Conclusion = k
          Consistency = s
          Coherence = h
          Total =
            cfg.FormatWeight * f + cfg.ClassWeight * c + cfg.ConclusionWeight * k + cfg.ConsistencyWeight * s
            + cfg.CoherenceWeight * h }

    /// 1.0 iff the text parses (Grammar.parse), has no text before <think>, closes </answer>, has nothing but
    /// whitespace after it, and its answer is a full taxonomy path (root child to leaf); else 0.0 (the Judge's
    /// format verdict).
    let format (g: Grammar) (text: string) : float =
        if Judge.formatValid (Judge.completion g text) then 1.0 else 0.0

    /// Classification reward in [0, 1]: the answer as read by the tolerant parser (label case and quote style
    /// forgiven) compared with the truth; 0.0 when no answer can be read.
    let classification (g: Grammar) (mode: ClassMode) (truth: Label) (text: string) : float =
        Judge.credit g mode truth (Judge.completion g text)

    /// Both rewards and the weighted total (judges once).
    let score (g: Grammar) (cfg: RewardConfig) (truth: Label) (text: string) : RewardBreakdown =
        ofJudgement g cfg truth (Judge.completion g text)

    /// The total reward of each text (one GRPO group or batch).
    let totals (g: Grammar) (cfg: RewardConfig) (truth: Label) (texts: string seq) : float[] =
        texts |> Seq.map (fun t -> (score g cfg truth t).Total) |> Seq.toArray
