module PaFas.Tests.ShuffleTests

open System
open Expecto
open FsCheck.FSharp
open PaFas.Core

let private tx = Gen.taxonomy
let private forAll name gen f = testPropertyWithConfig Gen.config name (Prop.forAll (Arb.fromGen gen) f)
let private labels = Taxonomy.leaves tx |> List.map (Taxonomy.labelOf tx)

/// 0..9 samples with 1..6 chains each; every chain has its own steps.
let private chainsGen: FsCheck.Gen<Chain list> =
    gen {
        let! samples = Gen.choose (0, 9)
        let! perSample = Gen.listOfLength samples (Gen.zip (Gen.choose (1, 6)) (Gen.elements labels))
        return
            perSample
            |> List.mapi (fun s (k, label) ->
                [ for j in 1..k ->
                      { SampleId = sprintf "s%d" s
                        Steps = [ Forward(sprintf "think %d.%d" s j) ]
                        Answer = label
                        TrueLabel = label } ])
            |> List.concat
    }

let private withSeed g = Gen.zip g (Gen.choose (Int32.MinValue, Int32.MaxValue))

/// Group arrays of 0..40 items over 1..6 groups, some with one dominating group.
let private groupsGen: FsCheck.Gen<string[]> =
    gen {
        let! n = Gen.choose (0, 40)
        let! k = Gen.choose (1, 6)
        let! skew = Gen.elements [ false; true ]
        return!
            Gen.arrayOfLength n (if skew then Gen.frequency [ 5, Gen.constant "big"; 1, Gen.elements [ "a"; "b" ] ] else Gen.choose (1, k) |> Gen.map string)
    }

let private sorted (xs: 'a seq) = xs |> Seq.sort |> List.ofSeq

let tests =
    testList
        "Shuffle"
        [ test "parseMode reads answer, path and none; toText is its inverse" {
              for m in [ AnswerShuffle; PathShuffle; NoShuffle ] do
                  Expect.equal (Shuffle.parseMode (Shuffle.toText m)) (Ok m) (Shuffle.toText m)
              Expect.equal (Shuffle.parseMode "  Answer ") (Ok AnswerShuffle) "case and whitespace"
              Expect.equal (List.map Shuffle.toText [ AnswerShuffle; PathShuffle; NoShuffle ]) [ "answer"; "path"; "none" ] "texts"
              Expect.isError (Shuffle.parseMode "both") "unknown"
              Expect.isError (Shuffle.parseMode null) "null"
          }
          forAll "permutation is a permutation" (withSeed groupsGen) (fun (groups, seed) ->
              let p = Shuffle.permutation seed groups
              Expect.equal (sorted p) [ 0 .. groups.Length - 1 ] "every position exactly once")
          forAll "permutation moves items across groups wherever possible" (withSeed groupsGen) (fun (groups, seed) ->
              let p = Shuffle.permutation seed groups
              let n = groups.Length
              let biggest = if n = 0 then 0 else groups |> Array.countBy id |> Array.map snd |> Array.max
              let stay = p |> Array.mapi (fun i j -> groups[i] = groups[j]) |> Array.filter id |> Array.length
              Expect.equal stay (max 0 (2 * biggest - n)) "only the unavoidable stay in their group")
          forAll "answer shuffle permutes the answers and keeps the reasoning" (withSeed chainsGen) (fun (chains, seed) ->
              let out = Shuffle.apply AnswerShuffle seed chains
              Expect.equal (out |> List.map (fun c -> c.Steps)) (chains |> List.map (fun c -> c.Steps)) "steps in order"
              Expect.equal (out |> List.map (fun c -> c.SampleId, c.TrueLabel)) (chains |> List.map (fun c -> c.SampleId, c.TrueLabel)) "ids and truth"
              Expect.equal (sorted (out |> List.map (fun c -> c.Answer))) (sorted (chains |> List.map (fun c -> c.Answer))) "multiset of answers")
          forAll "path shuffle permutes the steps and keeps the answers" (withSeed chainsGen) (fun (chains, seed) ->
              let out = Shuffle.apply PathShuffle seed chains
              Expect.equal (out |> List.map (fun c -> c.Answer)) (chains |> List.map (fun c -> c.Answer)) "answers in order"
              Expect.equal (out |> List.map (fun c -> c.SampleId, c.TrueLabel)) (chains |> List.map (fun c -> c.SampleId, c.TrueLabel)) "ids and truth"
              Expect.equal (sorted (out |> List.map (fun c -> c.Steps))) (sorted (chains |> List.map (fun c -> c.Steps))) "multiset of steps")
          forAll "none keeps the chains; every mode is deterministic per seed" (withSeed chainsGen) (fun (chains, seed) ->
              Expect.equal (Shuffle.apply NoShuffle seed chains) chains "identity"
              for m in [ AnswerShuffle; PathShuffle ] do
                  Expect.equal (Shuffle.apply m seed chains) (Shuffle.apply m seed chains) (Shuffle.toText m))
          test "answers come from many other samples, not one shifted neighbour" {
              let chains =
                  [ for s in 0..19 do
                        for j in 0..9 ->
                            { SampleId = sprintf "s%d" s; Steps = [ Forward(sprintf "t%d.%d" s j) ]; Answer = [ sprintf "A%d" s ]; TrueLabel = [ sprintf "A%d" s ] } ]
              let out = Shuffle.apply AnswerShuffle 42 chains
              Expect.isTrue (out |> List.forall (fun c -> c.Answer <> c.TrueLabel)) "no chain keeps its own sample's answer"
              let sources = out |> List.filter (fun c -> c.SampleId = "s0") |> List.map (fun c -> c.Answer) |> List.distinct
              Expect.isGreaterThan sources.Length 3 "the ten chains of one sample get answers of several samples"
              Expect.notEqual (Shuffle.apply AnswerShuffle 43 chains) out "another seed, another permutation"
          }
          test "edge cases: empty, one chain, one sample" {
              Expect.equal (Shuffle.apply AnswerShuffle 1 []) [] "empty"
              let one = [ { SampleId = "x"; Steps = []; Answer = [ "Real Face" ]; TrueLabel = [ "Real Face" ] } ]
              Expect.equal (Shuffle.apply AnswerShuffle 1 one) one "single chain"
              Expect.equal (Shuffle.permutation 5 [| "a"; "a"; "a" |] |> sorted) [ 0; 1; 2 ] "one group"
          } ]
