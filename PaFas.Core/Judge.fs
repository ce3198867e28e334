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

/// Why a completion earns no format reward (the first rule it breaks, in this order).
type FormatFailure =
    /// The tags or the answer list cannot be read (no <think>, unclosed </think>, no <answer>, a malformed list,
    /// text between </think> and <answer> or after </answer>).
    | Unparsable of ParseError
    /// Text before <think> (the answer is still read).
    | TextBeforeThink
    /// No </answer> (the answer is still read).
    | AnswerNotClosed
    /// The answer is not a full root-child-to-leaf path of the taxonomy.
    | NotAFullPath of Label

/// The one judgement of a completion, made without the truth: everything the rewards, evaluation, `score` and
/// `predict` read from a model's text.
type Judgement =
    { /// None when the format reward is 1.
      Failure: FormatFailure option
      /// The answer as read by the tolerant parser (label case and quote style forgiven); None when unparsable.
      Answer: Label option
      /// The think text as written (trimmed); "" when unparsable.
      Think: string
      /// The known clauses of the think text, in order (ill-formed clauses left out).
      Steps: Step list
      /// The chain's conclusion: the node of its last forward step ("This points to X.") that no later reflection
      /// rules out; None when it has none.
      Conclusion: string option
      /// Cues cited by observations and reflection evidence, in order.
      Cited: Cue list
      /// Pairs of cited cues the chain claims together although no taxonomy class shows both (same modality).
      Contradictions: (Cue * Cue) list
      /// Sentences of the think text the grammar does not know (ill-formed clauses).
      IllFormed: string list }

/// How the answer, the chain's conclusion and the live-score verdict of one completion relate.
type Agreement =
    { /// The conclusion is the answer's leaf; None when either is missing.
      ConclusionIsAnswer: bool option
      /// The answer's live/spoof equals the score verdict; None when the answer is neither live nor spoof.
      AnswerAgreesWithScore: bool option
      /// The conclusion's live/spoof equals the score verdict; None without a conclusion.
      ConclusionAgreesWithScore: bool option }
    /// All three are defined and true.
    member a.All =
        a.ConclusionIsAnswer = Some true && a.AnswerAgreesWithScore = Some true && a.ConclusionAgreesWithScore = Some true

/// The judge of a completion. Total: any string (null included) gives a judgement, by construction.
[<RequireQualifiedAccess>]
module Judge =
    /// Short name of a failure kind (report tables, scored.jsonl, JSON lines).
    let failureKind (f: FormatFailure) =
        match f with
        | Unparsable(MalformedAnswer _) -> "malformed answer"
        | Unparsable e -> e.ToString()
        | TextBeforeThink -> "text before <think>"
        | AnswerNotClosed -> "missing </answer>"
        | NotAFullPath _ -> "answer is not a full taxonomy path"

    /// The detail of a failure ("" when the kind says it all).
    let failureDetail (f: FormatFailure) =
        match f with
        | Unparsable(MalformedAnswer why) -> why
        | NotAFullPath l -> Grammar.answerText l
        | _ -> ""

    /// Two distinct cues of one modality that no leaf of the taxonomy can show together (e.g. ir:pupil and
    /// ir:nopupil, depth:flat and depth:relief): claiming both describes one image two incompatible ways. Cues no
    /// leaf shows are opposed to nothing.
    let opposed (t: Taxonomy) (a: Cue) (b: Cue) =
        let leaves = Taxonomy.leaves t |> List.map (Taxonomy.compatible t)
        a <> b
        && a.Modality = b.Modality
        && leaves |> List.exists (Set.contains a)
        && leaves |> List.exists (Set.contains b)
        && not (leaves |> List.exists (fun cs -> cs.Contains a && cs.Contains b))

    let private contradictions (t: Taxonomy) (cited: Cue list) =
        let distinct = List.distinct cited
        [ for i, a in List.indexed distinct do
              for b in List.skip (i + 1) distinct do
                  if opposed t a b then yield a, b ]

    let private failureOf (g: Grammar) (c: Completion) =
        if c.Preamble then Some TextBeforeThink
        elif not c.AnswerClosed then Some AnswerNotClosed
        elif not (Taxonomy.isValidLabel g.Taxonomy c.Answer) then Some(NotAFullPath c.Answer)
        else None

    /// Judges one completion.
    let completion (g: Grammar) (text: string) : Judgement =
        match Grammar.parse g text with
        | Error e ->
            { Failure = Some(Unparsable e); Answer = None; Think = ""; Steps = []; Conclusion = None; Cited = []
              Contradictions = []; IllFormed = [] }
        | Ok c ->
            let steps = c.Clauses |> List.choose (function Known s -> Some s | Unknown _ -> None)
            let cited = Grammar.citedCues steps
            { Failure = failureOf g c
              Answer = Some c.Answer
              Think = c.Think
              Steps = steps
              Conclusion = Grammar.conclusion steps
              Cited = cited
              Contradictions = contradictions g.Taxonomy cited
              IllFormed = c.Clauses |> List.choose (function Unknown s -> Some s | Known _ -> None) }

    /// The format reward's verdict: 1 iff no failure.
    let formatValid (j: Judgement) = j.Failure.IsNone

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

    /// Classification credit of the judged answer against the truth (`labelCredit`); 0 without an answer.
    let credit (g: Grammar) (mode: ClassMode) (truth: Label) (j: Judgement) =
        match j.Answer with
        | Some a -> labelCredit g mode truth a
        | None -> 0.0

    /// A chain citing a cue and its opposite, or containing an ill-formed clause.
    let selfContradictory (j: Judgement) = not j.Contradictions.IsEmpty || not j.IllFormed.IsEmpty

    /// The conclusion as a label (path from a root child to the node); None without a conclusion.
    let conclusionLabel (g: Grammar) (j: Judgement) : Label option =
        j.Conclusion |> Option.map (Taxonomy.labelOf g.Taxonomy) |> Option.filter (List.isEmpty >> not)

    /// Live (Some true), spoof (Some false) or neither (None) of a label.
    let liveOf (l: Label) =
        if Taxonomy.isLive l then Some true elif Taxonomy.isSpoof l then Some false else None

    /// The answer's live/spoof; None when unparsable or neither.
    let answerLive (j: Judgement) = j.Answer |> Option.bind liveOf

    /// The conclusion's live/spoof; None without a conclusion.
    let conclusionLive (g: Grammar) (j: Judgement) = conclusionLabel g j |> Option.bind liveOf

    /// The conclusion is the answer's leaf; None when either is missing.
    let consistent (j: Judgement) =
        match j.Conclusion, j.Answer with
        | Some n, Some a when not a.IsEmpty -> Some(n = Taxonomy.leaf a)
        | _ -> None

    /// How answer, conclusion and the live-score verdict (`scoreLive`) relate.
    let agreement (g: Grammar) (j: Judgement) (scoreLive: bool) : Agreement =
        { ConclusionIsAnswer = consistent j
          AnswerAgreesWithScore = answerLive j |> Option.map ((=) scoreLive)
          ConclusionAgreesWithScore = conclusionLive g j |> Option.map ((=) scoreLive) }
