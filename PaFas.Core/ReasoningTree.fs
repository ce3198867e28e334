namespace PaFas.Core

open System
open System.Text.Json
open System.Text.RegularExpressions

/// One node visit of a reasoning path. The reasoning tree's nodes are the taxonomy decisions, the
/// per-modality observation clauses and the reflection clauses.
type Step =
    /// The root clause: which modalities are examined (the available ones, in the fixed order).
    | Start of Modality list
    /// An observation clause citing one cue.
    | Observe of Cue
    /// A forward step (+v) into a taxonomy node: a tentative conclusion.
    | Forward of node: string
    /// A backward step (-v): rules the node out, citing contradicting evidence, and returns to its parent.
    | Reflect of node: string * evidence: Cue

/// A reasoning path and the final answer it is rendered with. For true chains the answer is the label the
/// steps lead to; answer shuffling replaces it.
type ReasoningPath = { Steps: Step list; Answer: Label }

/// The clause templates of data/templates.json.
type Templates =
    { ModalityNames: Map<Modality, string>
      StartTemplate: string
      ForwardTemplate: string
      ReflectTemplate: string
      /// cue -> (observation sentence, evidence phrase)
      Cues: Map<Cue, string * string> }

/// A clause of a parsed chain: a known step, or a sentence the grammar does not know.
type Clause =
    | Known of Step
    | Unknown of string

/// What a completion says, as read back by the tolerant parser.
type Completion =
    { /// Text between <think> and </think>, trimmed.
      Think: string
      Clauses: Clause list
      /// Labels as written, mapped to canonical spelling where the taxonomy knows them.
      Answer: Label
      /// Whether </answer> was present (the format reward requires it).
      AnswerClosed: bool
      /// Whether there was text before <think> (tolerated; the format reward rejects it).
      Preamble: bool }

type ParseError =
    | EmptyText
    | MissingThink
    | UnclosedThink
    | MissingAnswer
    | MalformedAnswer of string
    override this.ToString() =
        match this with
        | EmptyText -> "empty completion"
        | MissingThink -> "no <think> tag"
        | UnclosedThink -> "<think> is not closed by </think>"
        | MissingAnswer -> "no <answer> after </think>"
        | MalformedAnswer why -> "malformed answer list: " + why

/// Templates + taxonomy compiled into a grammar: render and parse are inverse on valid paths.
type Grammar =
    { Taxonomy: Taxonomy
      Templates: Templates
      /// Every sentence the grammar can render (normalised) -> its step.
      SentenceIndex: Map<string, Step> }

[<RequireQualifiedAccess>]
module Templates =
    /// Parses the text of data/templates.json.
    let parse (json: string) : Result<Templates, string> =
        try
            use doc = JsonDocument.Parse(if isNull json then "" else json)
            let r = doc.RootElement
            let str (e: JsonElement) (p: string) =
                match (if e.ValueKind = JsonValueKind.Object then e.TryGetProperty p else (false, Unchecked.defaultof<_>)) with
                | true, v when v.ValueKind = JsonValueKind.String -> Ok(v.GetString())
                | _ -> Error(sprintf "templates: missing string '%s'" p)
            let prop (p: string) =
                if r.ValueKind = JsonValueKind.Object then r.TryGetProperty p else (false, Unchecked.defaultof<_>)
            let names =
                match prop "modalityNames" with
                | true, v when v.ValueKind = JsonValueKind.Object ->
                    [ for p in v.EnumerateObject() ->
                          match Modality.tryParse p.Name with
                          | Some m when p.Value.ValueKind = JsonValueKind.String -> Ok(m, p.Value.GetString())
                          | _ -> Error(sprintf "templates: bad modality name entry '%s'" p.Name) ]
                | _ -> [ Error "templates: missing object 'modalityNames'" ]
            let cues =
                match prop "cues" with
                | true, v when v.ValueKind = JsonValueKind.Array ->
                    [ for c in v.EnumerateArray() ->
                          match str c "cue", str c "observe", str c "evidence" with
                          | Ok cue, Ok obs, Ok ev ->
                              match Cue.tryParse cue with
                              | Some cue -> Ok(cue, (obs.Trim(), ev.Trim()))
                              | None -> Error(sprintf "templates: bad cue '%s'" cue)
                          | Error e, _, _ | _, Error e, _ | _, _, Error e -> Error e ]
                | _ -> [ Error "templates: missing array 'cues'" ]
            let errs =
                (names |> List.choose (function Error e -> Some e | _ -> None))
                @ (cues |> List.choose (function Error e -> Some e | _ -> None))
            match str r "start", str r "forward", str r "reflect" with
            | Ok s, Ok f, Ok rf when errs.IsEmpty ->
                let nameMap = names |> List.choose (function Ok x -> Some x | _ -> None) |> Map.ofList
                if Modality.all |> List.exists (nameMap.ContainsKey >> not) then
                    Error "templates: modalityNames must name rgb, depth and ir"
                else
                    Ok
                        { ModalityNames = nameMap
                          StartTemplate = s
                          ForwardTemplate = f
                          ReflectTemplate = rf
                          Cues = cues |> List.choose (function Ok x -> Some x | _ -> None) |> Map.ofList }
            | Error e, _, _ | _, Error e, _ | _, _, Error e -> Error e
            | _ -> Error(String.concat "; " errs)
        with :? JsonException as e -> Error("templates JSON is malformed: " + e.Message)

[<RequireQualifiedAccess>]
module Grammar =
    let private ws = Regex(@"\s+", RegexOptions.Compiled)
    /// Clause boundaries of a think text: whitespace after '.', '!' or '?'.
    let private sentenceSplit = Regex(@"(?<=[.!?])\s+", RegexOptions.Compiled)
    /// Whitespace-collapsed, lower-case form used to match sentences.
    let normalize (s: string) = ws.Replace(s.Trim(), " ").ToLowerInvariant()

    let private modalitiesText (t: Templates) (ms: Modality list) =
        let names = ms |> List.map (fun m -> t.ModalityNames[m])
        match names with
        | [] -> ""
        | [ a ] -> a
        | _ -> String.Join(", ", names |> List.take (names.Length - 1)) + " and " + List.last names

    /// Renders one step as a sentence.
    let sentence (g: Grammar) (step: Step) =
        let t = g.Templates
        match step with
        | Start ms -> t.StartTemplate.Replace("{modalities}", modalitiesText t ms)
        | Observe c -> fst t.Cues[c]
        | Forward n -> t.ForwardTemplate.Replace("{node}", n)
        | Reflect(n, c) -> t.ReflectTemplate.Replace("{evidence}", snd t.Cues[c]).Replace("{node}", n)

    /// Every step the grammar can express (used for the sentence index and the tokenizer vocabulary).
    let allSteps (taxonomy: Taxonomy) (t: Templates) =
        let subsets =
            [ for mask in 1..7 -> Modality.all |> List.indexed |> List.filter (fun (i, _) -> mask &&& (1 <<< i) <> 0) |> List.map snd ]
        let nodes = Taxonomy.nodes taxonomy
        let cues = t.Cues |> Map.toList |> List.map fst
        [ yield! subsets |> List.map Start
          yield! cues |> List.map Observe
          yield! nodes |> List.map Forward
          for n in nodes do
              for c in cues -> Reflect(n, c) ]

    /// Compiles templates and taxonomy; fails if a leaf cites a cue without a template or two steps
    /// render the same sentence.
    let create (taxonomy: Taxonomy) (t: Templates) : Result<Grammar, string> =
        let missing =
            Taxonomy.leaves taxonomy
            |> List.collect (fun l -> Taxonomy.compatible taxonomy l |> Set.toList)
            |> List.distinct
            |> List.filter (t.Cues.ContainsKey >> not)
        if not missing.IsEmpty then
            Error(sprintf "taxonomy cites cues without a template: %s" (missing |> List.map Cue.text |> String.concat ", "))
        else
            let g0 = { Taxonomy = taxonomy; Templates = t; SentenceIndex = Map.empty }
            let rendered = allSteps taxonomy t |> List.map (fun s -> sentence g0 s, s)
            let pairs = rendered |> List.map (fun (text, s) -> normalize text, s)
            let dup = pairs |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1)
            // parse splits the think text after . ! ? followed by whitespace: each sentence must be exactly one
            // such clause or the render/parse round trip breaks.
            let notOneClause =
                rendered
                |> List.tryFind (fun (text, _) ->
                    let s = text.Trim()
                    s = "" || not (".!?".Contains s[s.Length - 1]) || sentenceSplit.Split(s).Length <> 1
                               || s.Contains "<" || s.Contains ">")
            match dup, notOneClause with
            | Some(s, _), _ -> Error(sprintf "two steps render the same sentence: '%s'" s)
            | None, Some(text, _) ->
                Error(sprintf "the sentence '%s' must be one clause ending in '.', '!' or '?' with no '<' or '>'" text)
            | None, None -> Ok { g0 with SentenceIndex = Map.ofList pairs }

    /// Parses both JSON texts and compiles the grammar.
    let ofJson (taxonomyJson: string) (templatesJson: string) =
        Taxonomy.parse taxonomyJson
        |> Result.bind (fun tx -> Templates.parse templatesJson |> Result.bind (create tx))

    /// The think text of a list of steps.
    let thinkText (g: Grammar) (steps: Step list) = steps |> List.map (sentence g) |> String.concat " "

    /// The answer list as written in completions: ['A', 'B'].
    let answerText (label: Label) =
        "[" + String.Join(", ", label |> List.map (fun l -> "'" + l + "'")) + "]"

    /// `<think>...</think><answer>[...]</answer>`.
    let render (g: Grammar) (p: ReasoningPath) =
        "<think>" + thinkText g p.Steps + "</think><answer>" + answerText p.Answer + "</answer>"

    /// Same, for a think text that is not a step list (path shuffle moves raw text).
    let renderText (think: string) (answer: Label) =
        "<think>" + think + "</think><answer>" + answerText answer + "</answer>"

    /// Splits think text into clauses and matches each against the grammar.
    let clauses (g: Grammar) (think: string) =
        sentenceSplit.Split(think.Trim())
        |> Array.filter (fun s -> s.Trim() <> "")
        |> Array.map (fun s ->
            match g.SentenceIndex.TryFind(normalize s) with
            | Some step -> Known step
            | None -> Unknown(s.Trim()))
        |> List.ofArray

    let private item = Regex(@"^\s*(?:'([^']*)'|""([^""]*)"")\s*$", RegexOptions.Compiled)

    /// Reads an answer list `['A', "B"]`.
    let parseAnswerList (g: Grammar) (text: string) : Result<Label, ParseError> =
        let s = if isNull text then "" else text.Trim()
        if s.Length < 2 || not (s.StartsWith "[") then Error(MalformedAnswer "does not start with '['")
        elif not (s.EndsWith "]") then Error(MalformedAnswer "does not end with ']'")
        else
            let inner = s.Substring(1, s.Length - 2)
            if inner.Trim() = "" then Error(MalformedAnswer "empty list")
            else
                let items = inner.Split(',') |> List.ofArray
                let parsed =
                    items
                    |> List.map (fun it ->
                        let m = item.Match it
                        if not m.Success then None
                        else
                            let v = if m.Groups[1].Success then m.Groups[1].Value else m.Groups[2].Value
                            Some(Taxonomy.canonical g.Taxonomy v |> Option.defaultValue (v.Trim())))
                if parsed |> List.exists Option.isNone then Error(MalformedAnswer "items must be quoted labels separated by commas")
                else Ok(parsed |> List.choose id)

    /// Tolerant parser for any model's output: whitespace, quote style and label case are forgiven, text
    /// before <think> and a missing </answer> are recorded, tags must otherwise be in order. Total by construction
    /// (no exception handler): every index below is checked before it is used.
    let parse (g: Grammar) (text: string) : Result<Completion, ParseError> =
        if String.IsNullOrWhiteSpace text then Error EmptyText
        else
            let i0 = text.IndexOf("<think>", StringComparison.Ordinal)
            if i0 < 0 then Error MissingThink
            else
                let bodyStart = i0 + "<think>".Length
                let i1 = text.IndexOf("</think>", bodyStart, StringComparison.Ordinal)
                if i1 < 0 then Error UnclosedThink
                else
                    let think = text.Substring(bodyStart, i1 - bodyStart).Trim()
                    let rest = text.Substring(i1 + "</think>".Length)
                    let a0 = rest.IndexOf("<answer>", StringComparison.Ordinal)
                    if a0 < 0 then Error MissingAnswer
                    elif rest.Substring(0, a0).Trim() <> "" then Error(MalformedAnswer "text between </think> and <answer>")
                    else
                        let after = rest.Substring(a0 + "<answer>".Length)
                        let a1 = after.IndexOf("</answer>", StringComparison.Ordinal)
                        let body, closed =
                            if a1 >= 0 then after.Substring(0, a1), true else after, false
                        let trailing = if a1 >= 0 then after.Substring(a1 + "</answer>".Length).Trim() else ""
                        if trailing <> "" then Error(MalformedAnswer "text after </answer>")
                        else
                            parseAnswerList g body
                            |> Result.map (fun answer ->
                                { Think = think
                                  Clauses = clauses g think
                                  Answer = answer
                                  AnswerClosed = closed
                                  Preamble = text.Substring(0, i0).Trim() <> "" })

    /// The steps of a completion when every clause is known.
    let steps (c: Completion) =
        let known = c.Clauses |> List.choose (function Known s -> Some s | Unknown _ -> None)
        if known.Length = c.Clauses.Length then Some known else None

    /// The chain's own conclusion: the node of the last forward step that no later reflection rules out
    /// (for a well-formed depth-first path, the deepest node left on the path). Defined for any step list.
    let conclusion (steps: Step list) =
        let indexed = List.indexed steps
        let lastReflect =
            indexed
            |> List.choose (fun (i, s) -> match s with Reflect(n, _) -> Some(n, i) | _ -> None)
            |> Map.ofList
        indexed
        |> List.rev
        |> List.tryPick (fun (i, s) ->
            match s with
            | Forward n when (match lastReflect.TryFind n with Some j -> j < i | None -> true) -> Some n
            | _ -> None)

    /// Observations and reflection evidence cited by the steps.
    let citedCues (steps: Step list) =
        steps |> List.choose (function Observe c -> Some c | Reflect(_, c) -> Some c | _ -> None)
