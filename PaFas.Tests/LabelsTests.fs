module PaFas.Tests.LabelsTests

open System
open System.Linq
open Expecto
open FsCheck.FSharp
open PaFas.Core

let private t = Gen.taxonomy
let private map = SampleLabel.defaultAttackMap
let private interpret attack input =
    SampleLabel.interpret t map attack input |> Result.map (fun l -> SampleLabel.names l, SampleLabel.attack l)
let private flat = Taxonomy.labelOf t "Flat Print Attack"

/// The labelled subset as augment chose it before the choice moved to the core (LINQ: a stable OrderBy on one
/// System.Random draw per sample, Take, then ordinal order of ids).
let private linqChoice (seed: int) (budget: int) (ids: string[]) =
    let rng = Random(seed)
    Enumerable.Range(0, ids.Length).OrderBy(fun _ -> rng.Next()).Take(budget).OrderBy((fun i -> ids[i]), StringComparer.Ordinal).ToArray()

let tests =
    testList
        "Labels"
        [ testCase "label interpretation: paths, leaf names, live/spoof flags, attack names" (fun () ->
              Expect.equal (interpret "" (IsLive true)) (Ok([ Taxonomy.LiveName ], "")) "1"
              Expect.equal (interpret "" (Name " LIVE ")) (Ok([ Taxonomy.LiveName ], "")) "live"
              Expect.equal (interpret "photo" (IsLive false)) (Ok(flat, "Flat Print Attack")) "0 + mapped attack"
              Expect.equal (interpret "Photo " (Name "spoof")) (Ok(flat, "Flat Print Attack")) "map keys ignore case"
              Expect.equal (interpret "flat print attack" (Name "attack")) (Ok(flat, "Flat Print Attack")) "a leaf name as attack"
              Expect.equal (interpret "latex" (Name "spoof")) (Ok([ Taxonomy.SpoofName ], "latex")) "unknown attack keeps its name"
              Expect.equal (interpret "" (Name "flat print attack")) (Ok(flat, "Flat Print Attack")) "leaf name"
              Expect.equal (interpret "" (Names (flat |> List.map (fun n -> n.ToUpperInvariant())))) (Ok(flat, "Flat Print Attack")) "path, any case"
              Expect.equal (interpret "replay" (Names [ "spoof face" ])) (Ok(Taxonomy.labelOf t "Screen Replay Attack", "Screen Replay Attack")) "['Spoof Face'] + attack"
              Expect.equal (interpret "real face" (IsLive false)) (Ok([ Taxonomy.SpoofName ], "real face")) "the live leaf is no attack"
              for input, part in
                  [ Names [ "Spoof Face"; "Print Attacks" ], "not a path of the taxonomy"
                    Names [ "Spoof Face"; "External Spoofing Attacks" ], "does not end at a leaf"
                    Names [], "not a path"
                    Names [ "Cat" ], "unknown label node 'Cat'"
                    Name "Print Attacks", "not a leaf"
                    Name "cat", "unknown label 'cat'" ] do
                  match interpret "" input with
                  | Error e -> Expect.stringContains e part (sprintf "%A" input)
                  | Ok x -> failtestf "%A: expected an error, got %A" input x)

          testCase "a validated path is canonical and full" (fun () ->
              match TaxonomyPath.tryCreate t [ "real   FACE" ] with
              | Ok p -> Expect.equal p.Names [ Taxonomy.LiveName ] "canonical"; Expect.isTrue p.IsLive "live"
              | Error e -> failtest e
              Expect.isError (TaxonomyPath.tryCreate t [ "Spoof Face" ]) "not a leaf"
              Expect.isError (TaxonomyPath.tryCreate t [ "Flat Print Attack" ]) "not from the root"
              Expect.equal (TaxonomyPath.ofLeaf t "glasses attack" |> Option.map (fun p -> p.Leaf)) (Some "Glasses Attack") "leaf"
              Expect.isNone (TaxonomyPath.ofLeaf t "Print Attacks") "inner node")

          testCase "a stored label reads back as the sample's truth" (fun () ->
              let names l = l |> Result.map SampleLabel.names
              Expect.equal (SampleLabel.ofNames t flat "Flat Print Attack" |> names) (Ok flat) "full path"
              Expect.equal (SampleLabel.ofNames t [ Taxonomy.SpoofName ] "latex") (Ok(UnknownAttack "latex")) "unknown attack"
              Expect.isError (SampleLabel.ofNames t [ "Spoof Face"; "Partial Attacks" ] "") "an inner node is no label"
              Expect.isTrue (SampleLabel.isLive (SampleLabel.live t)) "live")

          Gen.prop "every leaf, by name or path, is a full path with its leaf as attack" (fun (i: int) ->
              let leaves = Taxonomy.leaves t
              let leaf = leaves[abs (i % leaves.Length)]
              let label = Taxonomy.labelOf t leaf
              let attack = if Taxonomy.isLive label then "" else leaf
              interpret "" (Name leaf) = Ok(label, attack) && interpret "" (Names label) = Ok(label, attack))

          Gen.prop "the labelled subset is the one augment chose before (and sorted, distinct, of the budget's size)" (fun (seed: int) (n: byte) (budget: byte) ->
              let ids = Array.init (int n) (fun i -> sprintf "id%03d" ((i * 7919) % 997))
              let got = Labelled.choose seed (int budget) ids
              let expected = if budget = 0uy || ids.Length <= int budget then Array.init ids.Length id else linqChoice seed (int budget) ids
              got = expected
              && got.Length = (if budget = 0uy then ids.Length else min ids.Length (int budget))
              && (got |> Array.distinct).Length = got.Length) ]
