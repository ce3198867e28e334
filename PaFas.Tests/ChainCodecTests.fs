module PaFas.Tests.ChainCodecTests

open System.Text.Json
open Expecto
open FsCheck.FSharp
open PaFas.Core

let private gr = Gen.grammar
let private leaves = Taxonomy.leaves gr.Taxonomy

/// Chain lines of random PNRPS chains (any modality subset, answers possibly from another leaf, raw chains without
/// steps, optional images absent).
let private lineGen: FsCheck.Gen<ChainLine> =
    gen {
        let! leaf = Gen.elements leaves
        let! other = Gen.elements leaves
        let! mask = Gen.choose (1, 7)
        let ms = Modality.all |> List.indexed |> List.filter (fun (i, _) -> mask &&& (1 <<< i) <> 0) |> List.map snd
        let avail = Gen.availability ms
        let label = Taxonomy.labelOf gr.Taxonomy leaf
        let! cues = Gen.subListOf (Taxonomy.compatible gr.Taxonomy leaf |> Set.toList)
        let! seed = Gen.choose (0, 100000)
        let! raw = Gen.elements [ false; false; true ]
        let steps =
            if raw then []
            else (Pnrps.sample gr { Pnrps.defaultConfig with Paths = 1 } seed { Label = label; Available = avail; Cues = Set.ofList cues } |> List.head).Steps
        let! shuffle = Gen.elements [ "answer"; "path"; "none"; "raw" ]
        let img (m: Modality) = if Availability.has m avail then Some(sprintf "imgs/%s/%d é.png" (Modality.key m) seed) else None
        return
            { Id = sprintf "s%d#%d" seed (seed % 7)
              Chain = { SampleId = sprintf "s%d" seed; Steps = steps; Answer = Taxonomy.labelOf gr.Taxonomy other; TrueLabel = label }
              Rgb = img Modality.Rgb
              Depth = img Modality.Depth
              Ir = img Modality.Ir
              Domain = "W"
              Attack = (if Taxonomy.isLive label then "" else leaf)
              Shuffle = shuffle
              Seed = seed }
    }

/// A line as `pafas augment` wrote it before steps were stored (think text only).
let private legacyLine (l: ChainLine) =
    let think = Grammar.thinkText gr l.Chain.Steps
    JsonSerializer.Serialize(
        dict [ "id", box l.Id; "sample_id", box l.Chain.SampleId; "rgb", box (Option.toObj l.Rgb); "depth", box (Option.toObj l.Depth)
               "ir", box (Option.toObj l.Ir); "domain", box l.Domain; "attack", box l.Attack; "true_label", box (List.toArray l.Chain.TrueLabel)
               "answer", box (List.toArray l.Chain.Answer); "think", box think; "text", box (Grammar.renderText think l.Chain.Answer)
               "shuffle", box l.Shuffle; "seed", box l.Seed ])

let private errorOf r = match r with Error e -> e | Ok _ -> failtest "expected an error"

let tests =
    testList
        "ChainCodec"
        [ Gen.forAll "decode (encode line) = line" lineGen (fun l -> ChainCodec.decode gr (ChainCodec.encode gr l) = Ok l)
          Gen.forAll "lines written before steps were stored read back to the same chain" lineGen (fun l ->
              ChainCodec.decode gr (legacyLine l) = Ok l)
          Gen.forAll "the trained text is the old rendering of the think text (SFT tokens unchanged)" lineGen (fun l ->
              ChainCodec.text gr l.Chain = Grammar.renderText (Grammar.thinkText gr l.Chain.Steps) l.Chain.Answer)
          Gen.forAll "the written line carries think and text for people and external tools" lineGen (fun l ->
              use doc = JsonDocument.Parse(ChainCodec.encode gr l)
              doc.RootElement.GetProperty("text").GetString() = ChainCodec.text gr l.Chain
              && doc.RootElement.GetProperty("steps").GetArrayLength() = l.Chain.Steps.Length)

          testCase "bad lines are refused with a reason" (fun () ->
              let good = ChainCodec.encode gr (Gen.sample 1 lineGen |> Array.head)
              let edit (f: Nodes.JsonObject -> unit) =
                  let o = Nodes.JsonNode.Parse(good).AsObject()
                  f o
                  o.ToJsonString()
              Expect.stringContains (errorOf (ChainCodec.decode gr "{not json")) "malformed JSON" "JSON"
              Expect.stringContains (errorOf (ChainCodec.decode gr "[1]")) "JSON object" "not an object"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o.Remove "sample_id" |> ignore)))) "sample_id" "missing id"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o["steps"] <- Nodes.JsonNode.Parse("""[{"forward": "Cat Face"}]""")))))
                  "'Cat Face' is not a taxonomy node" "unknown node"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o["steps"] <- Nodes.JsonNode.Parse("""[{"observe": "ir:glow"}]""")))))
                  "cue 'ir:glow' has no clause template" "unknown cue"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o["steps"] <- Nodes.JsonNode.Parse("""[{"reflect": "Real Face"}]""")))))
                  "step 0: a reflection needs 'evidence'" "reflection without evidence"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o.Remove "steps" |> ignore; o["think"] <- "I see a cat."))))
                  "'I see a cat.' is not a sentence of the grammar" "legacy think text with an unknown sentence"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o.Remove "steps" |> ignore; o.Remove "think" |> ignore))))
                  "'steps'" "no steps at all"
              Expect.stringContains (errorOf (ChainCodec.decode gr (edit (fun o -> o["rgb"] <- null; o["depth"] <- ""; o["ir"] <- null))))
                  "names no image" "no image") ]
