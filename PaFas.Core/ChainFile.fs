namespace PaFas.Core

open System
open System.Text.Json
open System.Text.Json.Nodes

/// One line of a chain file (JSONL): a chain with the sample it was made from. `pafas augment` writes them; `sft`,
/// the validator and `export` read them, all through `ChainCodec`.
type ChainLine =
    { /// "<sample id>#<k>".
      Id: string
      Chain: Chain
      /// Image paths as written (the host resolves relative ones); None when the modality is absent.
      Rgb: string option
      Depth: string option
      Ir: string option
      Domain: string
      Attack: string
      /// "answer", "path", "none" (PNRPS chains) or "raw" (answer only).
      Shuffle: string
      Seed: int }

/// The one reader and writer of chain files. A line holds the structured steps ("steps") and, for people and
/// external tools, their rendering ("think", "text"). Lines written before steps were stored (no "steps" field)
/// are read from their "think" text, which must then consist of sentences of the grammar.
[<RequireQualifiedAccess>]
module ChainCodec =
    let private strings (xs: string seq) = JsonArray(xs |> Seq.map (fun x -> JsonValue.Create x :> JsonNode) |> Seq.toArray)

    let private stepNode (s: Step) : JsonNode =
        match s with
        | Start ms -> JsonObject(dict [ "start", strings (ms |> List.map Modality.key) :> JsonNode ])
        | Observe c -> JsonObject(dict [ "observe", JsonValue.Create(Cue.text c) :> JsonNode ])
        | Forward n -> JsonObject(dict [ "forward", JsonValue.Create n :> JsonNode ])
        | Reflect(n, c) -> JsonObject(dict [ "reflect", JsonValue.Create n :> JsonNode; "evidence", JsonValue.Create(Cue.text c) :> JsonNode ])

    /// The completion a chain is trained on: `<think>steps</think><answer>[...]</answer>`.
    let text (g: Grammar) (c: Chain) = Grammar.render g { Steps = c.Steps; Answer = c.Answer }

    /// One JSON line (without the newline).
    let encode (g: Grammar) (l: ChainLine) : string =
        let path (p: string option) = match p with Some p -> JsonValue.Create p :> JsonNode | None -> null
        let o = JsonObject()
        o["id"] <- JsonValue.Create l.Id
        o["sample_id"] <- JsonValue.Create l.Chain.SampleId
        o["rgb"] <- path l.Rgb
        o["depth"] <- path l.Depth
        o["ir"] <- path l.Ir
        o["domain"] <- JsonValue.Create l.Domain
        o["attack"] <- JsonValue.Create l.Attack
        o["true_label"] <- strings l.Chain.TrueLabel
        o["answer"] <- strings l.Chain.Answer
        o["steps"] <- JsonArray(l.Chain.Steps |> List.map stepNode |> List.toArray)
        o["think"] <- JsonValue.Create(Grammar.thinkText g l.Chain.Steps)
        o["text"] <- JsonValue.Create(text g l.Chain)
        o["shuffle"] <- JsonValue.Create l.Shuffle
        o["seed"] <- JsonValue.Create l.Seed
        o.ToJsonString()

    let private str (e: JsonElement) (k: string) =
        match e.TryGetProperty k with
        | true, v when v.ValueKind = JsonValueKind.String -> Some(v.GetString())
        | _ -> None

    let private required (e: JsonElement) (k: string) =
        match str e k with
        | Some v -> Ok v
        | None -> Error(sprintf "field '%s' missing or not a string" k)

    let private labels (e: JsonElement) (k: string) : Result<Label, string> =
        match e.TryGetProperty k with
        | true, v when v.ValueKind = JsonValueKind.Array && (v.EnumerateArray() |> Seq.forall (fun x -> x.ValueKind = JsonValueKind.String)) ->
            Ok [ for x in v.EnumerateArray() -> x.GetString() ]
        | _ -> Error(sprintf "field '%s' missing or not a list of strings" k)

    let private cueOf (g: Grammar) (s: string) =
        match Cue.tryParse s with
        | Some c when g.Templates.Cues.ContainsKey c -> Ok c
        | _ -> Error(sprintf "cue '%s' has no clause template" s)

    let private nodeOf (g: Grammar) (n: string) =
        if Taxonomy.contains g.Taxonomy n && n <> Taxonomy.root g.Taxonomy then Ok n
        else Error(sprintf "'%s' is not a taxonomy node" n)

    let private stepOf (g: Grammar) (i: int) (e: JsonElement) : Result<Step, string> =
        let r =
            if e.ValueKind <> JsonValueKind.Object then Error "not an object"
            else
                match e.TryGetProperty "start", str e "observe", str e "forward", str e "reflect" with
                | (true, ms), None, None, None when ms.ValueKind = JsonValueKind.Array ->
                    let parsed = [ for m in ms.EnumerateArray() -> if m.ValueKind = JsonValueKind.String then Modality.tryParse (m.GetString()) else None ]
                    if parsed.IsEmpty || List.exists Option.isNone parsed then Error "start names an unknown modality"
                    else Ok(Start(List.choose id parsed))
                | (false, _), Some c, None, None -> cueOf g c |> Result.map Observe
                | (false, _), None, Some n, None -> nodeOf g n |> Result.map Forward
                | (false, _), None, None, Some n ->
                    match str e "evidence" with
                    | Some c -> nodeOf g n |> Result.bind (fun n -> cueOf g c |> Result.map (fun c -> Reflect(n, c)))
                    | None -> Error "a reflection needs 'evidence'"
                | _ -> Error "expected one of start, observe, forward, reflect"
        r |> Result.mapError (sprintf "step %d: %s" i)

    let private all (rs: Result<'a, string> list) =
        match rs |> List.tryPick (function Error e -> Some e | Ok _ -> None) with
        | Some e -> Error e
        | None -> Ok(rs |> List.choose (function Ok x -> Some x | Error _ -> None))

    /// Steps from "steps", or from the "think" text of a line written before steps were stored.
    let private stepsOf (g: Grammar) (e: JsonElement) =
        match e.TryGetProperty "steps", str e "think" with
        | (true, v), _ when v.ValueKind = JsonValueKind.Array -> v.EnumerateArray() |> Seq.mapi (stepOf g) |> List.ofSeq |> all
        | (true, _), _ -> Error "field 'steps' is not a list"
        | _, Some think ->
            Grammar.clauses g think
            |> List.map (function
                | Known s -> Ok s
                | Unknown u -> Error(sprintf "the think text's sentence '%s' is not a sentence of the grammar" u))
            |> all
        | _ -> Error "field 'steps' (or, in older files, 'think') missing"

    /// Reads one line; the error says what is wrong (the host adds file:line).
    let decode (g: Grammar) (line: string) : Result<ChainLine, string> =
        let parsed =
            try Ok(JsonDocument.Parse(if isNull line then "" else line))
            with :? JsonException as e -> Error("malformed JSON (" + e.Message + ")")
        parsed
        |> Result.bind (fun doc ->
            use doc = doc
            let e = doc.RootElement
            if e.ValueKind <> JsonValueKind.Object then Error "expected a JSON object"
            else
                let path k = str e k |> Option.filter (String.IsNullOrEmpty >> not)
                match required e "id", required e "sample_id", labels e "true_label", labels e "answer", stepsOf g e with
                | Ok id, Ok sid, Ok truth, Ok answer, Ok steps ->
                    let l =
                        { Id = id
                          Chain = { SampleId = sid; Steps = steps; Answer = answer; TrueLabel = truth }
                          Rgb = path "rgb"
                          Depth = path "depth"
                          Ir = path "ir"
                          Domain = str e "domain" |> Option.defaultValue ""
                          Attack = str e "attack" |> Option.defaultValue ""
                          Shuffle = str e "shuffle" |> Option.defaultValue ""
                          Seed = (match e.TryGetProperty "seed" with | true, v when v.ValueKind = JsonValueKind.Number -> (match v.TryGetInt32() with | true, n -> n | _ -> 0) | _ -> 0) }
                    if l.Rgb.IsNone && l.Depth.IsNone && l.Ir.IsNone then Error "the chain names no image (rgb, depth, ir all empty)"
                    else Ok l
                | Error x, _, _, _, _ | _, Error x, _, _, _ | _, _, Error x, _, _ | _, _, _, Error x, _ | _, _, _, _, Error x -> Error x)

    /// The modalities of the chain's sample.
    let availability (l: ChainLine) = Availability.ofPresence l.Rgb.IsSome l.Depth.IsSome l.Ir.IsSome
