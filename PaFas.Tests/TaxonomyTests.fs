module PaFas.Tests.TaxonomyTests

open Expecto
open FsCheck.FSharp
open PaFas.Core

let private tx = Gen.taxonomy
let private forAll name gen f = testPropertyWithConfig Gen.config name (Prop.forAll (Arb.fromGen gen) f)

let private flatLabel =
    [ "Spoof Face"; "External Spoofing Attacks"; "Presentation Media Attacks"; "Print Attacks"; "Flat Print Attack" ]

let private leaf name cues = { Name = name; Cues = cues; Children = [] }
let private node name kids = { Name = name; Cues = []; Children = kids }

/// A small valid spec to break in the error tests.
let private small kids =
    node "root" ([ leaf "Real Face" [ "ir:pupil" ]; node "Spoof Face" [ leaf "Print" [ "depth:flat" ] ] ] @ kids)

let private isError r = match r with Error _ -> true | Ok _ -> false
let private errorText r = match r with Error (e: string) -> e | Ok _ -> failwith "expected an error"

let tests =
    testList
        "Taxonomy"
        [ test "the shipped taxonomy has depth 6 (root + five levels) and nine leaves" {
              Expect.equal (Taxonomy.depth tx) 6 "depth counts the root level"
              Expect.equal (Taxonomy.leaves tx |> List.length) 9 "leaves"
              Expect.equal (Taxonomy.children tx (Taxonomy.root tx)) [ "Real Face"; "Spoof Face" ] "root children"
          }
          test "labelOf gives the root-child-to-node path" {
              Expect.equal (Taxonomy.labelOf tx "Flat Print Attack") flatLabel "deepest leaf"
              Expect.equal (Taxonomy.labelOf tx "Real Face") [ "Real Face" ] "live"
              Expect.equal (Taxonomy.labelOf tx "Print Attacks") (List.take 4 flatLabel) "inner node"
              Expect.equal (Taxonomy.labelOf tx (Taxonomy.root tx)) [] "root"
              Expect.equal (Taxonomy.labelOf tx "No Such Node") [] "unknown"
          }
          test "isValidLabel accepts full root-to-leaf paths only" {
              Expect.isTrue (Taxonomy.isValidLabel tx flatLabel) "full path"
              Expect.isTrue (Taxonomy.isValidLabel tx [ "Real Face" ]) "live"
              Expect.isFalse (Taxonomy.isValidLabel tx (List.take 4 flatLabel)) "ends at an inner node"
              Expect.isFalse (Taxonomy.isValidLabel tx (List.tail flatLabel)) "does not start at a root child"
              Expect.isFalse (Taxonomy.isValidLabel tx [ "Spoof Face"; "Flat Print Attack" ]) "skips levels"
              Expect.isFalse (Taxonomy.isValidLabel tx []) "empty"
              Expect.equal (Taxonomy.validPrefixLength tx [ "Spoof Face"; "External Spoofing Attacks"; "Replay Attacks" ]) 2 "prefix"
              Expect.equal (Taxonomy.validPrefixLength tx [ "Real Face" ]) 1 "live prefix"
              Expect.equal (Taxonomy.validPrefixLength tx [ "Nope" ]) 0 "none"
          }
          test "canonical forgives case and whitespace, never returns the root" {
              Expect.equal (Taxonomy.canonical tx "  flat   PRINT\tattack ") (Some "Flat Print Attack") "normalised"
              Expect.equal (Taxonomy.canonical tx "root") None "root"
              Expect.equal (Taxonomy.canonical tx null) None "null"
              Expect.equal (Taxonomy.canonical tx "Flat Print") None "no partial match"
          }
          test "live, spoof and leaf of labels" {
              Expect.isTrue (Taxonomy.isLive [ "Real Face" ]) "live"
              Expect.isTrue (Taxonomy.isSpoof flatLabel) "spoof"
              Expect.isFalse (Taxonomy.isLive []) "empty is not live"
              Expect.equal (Taxonomy.leaf flatLabel) "Flat Print Attack" "leaf"
              Expect.equal (Taxonomy.leaf []) "" "empty leaf"
          }
          test "an inner node is compatible with the union of its leaves' cues" {
              let print = Taxonomy.compatible tx "Print Attacks"
              let union =
                  [ "Flat Print Attack"; "Wrapped Print Attack"; "Print with Cut-outs Attack" ]
                  |> List.map (Taxonomy.compatible tx)
                  |> Set.unionMany
              Expect.equal print union "union"
              Expect.isTrue (print.Contains { Modality = Modality.Depth; Key = "holes" }) "cut-outs cue"
              Expect.isFalse ((Taxonomy.compatible tx "Spoof Face").Contains { Modality = Modality.Ir; Key = "pupil" }) "no spoof has a pupil reflex"
          }
          forAll "every node's label is a parent chain ending at the node" (Gen.elements (Taxonomy.nodes tx)) (fun n ->
              let l = Taxonomy.labelOf tx n
              Expect.equal (List.last l) n "ends at the node"
              Expect.isLessThanOrEqual l.Length (Taxonomy.depth tx - 1) "no longer than D - 1"
              Expect.equal (Taxonomy.validPrefixLength tx l) l.Length "every prefix is valid"
              Expect.equal (Taxonomy.isValidLabel tx l) (Taxonomy.isLeaf tx n) "valid iff it ends at a leaf"
              Expect.isTrue (Set.isSubset (Taxonomy.compatible tx n) (Taxonomy.compatible tx (List.head l))) "compatibility narrows downwards")
          test "build rejects broken specs with a message" {
              Expect.isOk (Taxonomy.build (small [])) "the small spec is valid"
              Expect.stringContains (errorText (Taxonomy.build (small [ leaf "print" [] ]))) "duplicate" "case-insensitive duplicate"
              Expect.stringContains (errorText (Taxonomy.build (small [ leaf "Odd, Name" [] ]))) "may not contain" "comma"
              Expect.stringContains (errorText (Taxonomy.build (small [ leaf "Bad" [ "flat" ] ]))) "modality:key" "bad cue"
              Expect.stringContains (errorText (Taxonomy.build (node "root" [ leaf "Spoof Face" [] ]))) "Real Face" "no live child"
              Expect.stringContains (errorText (Taxonomy.build (small [ leaf "  " [] ]))) "empty name" "empty name"
              Expect.isTrue (isError (Taxonomy.build (small [ { Name = null; Cues = Unchecked.defaultof<_>; Children = Unchecked.defaultof<_> } ]))) "nulls from C#"
          }
          test "parse reports malformed JSON instead of throwing" {
              Expect.isOk (Taxonomy.parse Gen.taxonomyJson) "shipped file"
              Expect.stringContains (errorText (Taxonomy.parse "{ not json")) "malformed" "syntax"
              Expect.isTrue (isError (Taxonomy.parse "[1, 2]")) "not an object"
              Expect.isTrue (isError (Taxonomy.parse null)) "null"
              Expect.isTrue (isError (Taxonomy.parse """{"name":"root","children":[1, "x"]}""")) "children that are not objects"
          }
          test "names with doubled inner whitespace are still found by canonical" {
              let t =
                  match Taxonomy.build (small [ leaf "Odd  Spacing" [] ]) with
                  | Ok t -> t
                  | Error e -> failwith e
              Expect.equal (Taxonomy.canonical t "odd spacing") (Some "Odd  Spacing") "collapsed"
          } ]
