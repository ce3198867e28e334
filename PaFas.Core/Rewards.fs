namespace PaFas.Core

/// How the classification reward compares the predicted label with the true one.
type ClassMode =
    /// 1 iff the predicted label (the whole path) equals the true label.
    | ExactLeaf
    /// 1 iff both are live ('Real Face' first) or both are spoof ('Spoof Face' first).
    | Binary
    /// Prefix credit: (length of the common prefix of prediction and truth that is a valid taxonomy path)
    /// / max(|truth|, |prediction|). Equals "/ |truth|" whenever the prediction is no longer than the truth;
    /// the max keeps a prediction with appended junk below 1.
    | Hierarchical

/// Weights of the GRPO reward R = FormatWeight * R_format + ClassWeight * R_classification (the paper: 1 and 1).
type RewardConfig =
    { FormatWeight: float
      ClassWeight: float
      Mode: ClassMode }

/// The two rewards (each in [0, 1]) and their weighted sum.
type RewardBreakdown =
    { Format: float
      Classification: float
      Total: float }

/// GRPO rewards on raw completion text. Every function is total: any string (null included) gives a number.
[<RequireQualifiedAccess>]
module Rewards =
    /// Format and classification weighted 1 and 1, exact-leaf classification (the paper's R = R_format + R_class).
    let defaultConfig = { FormatWeight = 1.0; ClassWeight = 1.0; Mode = ExactLeaf }

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

    let private parsed (g: Grammar) (text: string) =
        if isNull text then Error EmptyText else Grammar.parse g text

    let private formatOf (g: Grammar) (p: Result<Completion, ParseError>) =
        match p with
        | Ok c when c.AnswerClosed && not c.Preamble && Taxonomy.isValidLabel g.Taxonomy c.Answer -> 1.0
        | _ -> 0.0

    /// Length of the longest common prefix of two labels.
    let private commonPrefix (a: Label) (b: Label) =
        let rec go n (a: Label) (b: Label) =
            match a, b with
            | x :: xs, y :: ys when x = y -> go (n + 1) xs ys
            | _ -> n
        go 0 a b

    /// Classification credit of a predicted label against the truth, in [0, 1] (0 for an empty truth).
    let labelCredit (g: Grammar) (mode: ClassMode) (truth: Label) (predicted: Label) : float =
        match mode with
        | ExactLeaf -> if not truth.IsEmpty && predicted = truth then 1.0 else 0.0
        | Binary ->
            if (Taxonomy.isLive truth && Taxonomy.isLive predicted) || (Taxonomy.isSpoof truth && Taxonomy.isSpoof predicted) then 1.0
            else 0.0
        | Hierarchical ->
            if truth.IsEmpty then 0.0
            else
                let common = min (commonPrefix truth predicted) (Taxonomy.validPrefixLength g.Taxonomy predicted)
                float common / float (max truth.Length predicted.Length)

    let private classOf (g: Grammar) (mode: ClassMode) (truth: Label) (p: Result<Completion, ParseError>) =
        match p with
        | Ok c -> labelCredit g mode truth c.Answer
        | Error _ -> 0.0

    /// 1.0 iff the text parses (Grammar.parse), has no text before <think>, closes </answer>, has nothing but
    /// whitespace after it, and its answer is a full taxonomy path (root child to leaf); else 0.0.
    let format (g: Grammar) (text: string) : float =
        try formatOf g (parsed g text) with _ -> 0.0

    /// Classification reward in [0, 1]: the answer as read by the tolerant parser (label case and quote style
    /// forgiven) compared with the truth; 0.0 when no answer can be read.
    let classification (g: Grammar) (mode: ClassMode) (truth: Label) (text: string) : float =
        try classOf g mode truth (parsed g text) with _ -> 0.0

    /// Both rewards and the weighted total (parses once).
    let score (g: Grammar) (cfg: RewardConfig) (truth: Label) (text: string) : RewardBreakdown =
        try
            let p = parsed g text
            let f = formatOf g p
            let c = classOf g cfg.Mode truth p
            { Format = f; Classification = c; Total = cfg.FormatWeight * f + cfg.ClassWeight * c }
        with _ -> { Format = 0.0; Classification = 0.0; Total = 0.0 }

    /// The total reward of each text (one GRPO group or batch).
    let totals (g: Grammar) (cfg: RewardConfig) (truth: Label) (texts: string seq) : float[] =
        texts |> Seq.map (fun t -> (score g cfg truth t).Total) |> Seq.toArray
