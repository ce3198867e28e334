module PaFas.Tests.GrpoTests

open Expecto
open FsCheck.FSharp
open PaFas.Core

let private close (a: float) (b: float) = abs (a - b) <= 1e-9 * (1.0 + abs a + abs b)
let private allClose (a: float[][]) (b: float[][]) =
    a.Length = b.Length && Array.forall2 (fun (x: float[]) (y: float[]) -> x.Length = y.Length && Array.forall2 close x y) a b

/// Rewards on a 0.01 grid in [-2, 2]; groups of 1..8, batches of 1..6 groups; some groups forced to tie.
let private rewardGen: FsCheck.Gen<float> = Gen.choose (-200, 200) |> Gen.map (fun i -> float i / 100.0)
let private groupGen: FsCheck.Gen<float[]> =
    Gen.oneof
        [ Gen.choose (1, 8) |> Gen.bind (fun n -> Gen.arrayOfLength n rewardGen)
          Gen.zip (Gen.choose (1, 8)) rewardGen |> Gen.map (fun (n, r) -> Array.create n r) ]
let private batchGen: FsCheck.Gen<float[][]> = Gen.choose (1, 6) |> Gen.bind (fun n -> Gen.arrayOfLength n groupGen)
let private scales = [ GroupScale; BatchScale; NoScale ]
let private isTied (g: float[]) = g |> Array.forall ((=) g[0])

/// Per-token losses: 0..6 completions of 0..7 tokens.
let private perTokenGen: FsCheck.Gen<float[][]> =
    let seqGen = Gen.choose (0, 7) |> Gen.bind (fun n -> Gen.arrayOfLength n rewardGen)
    Gen.choose (0, 6) |> Gen.bind (fun n -> Gen.arrayOfLength n seqGen)

let private forAll name gen f = testPropertyWithConfig Gen.config name (Prop.forAll (Arb.fromGen gen) f)

let tests =
    testList
        "Grpo"
        [ forAll "advantages have zero group mean" batchGen (fun batch ->
              scales
              |> List.forall (fun sc ->
                  Grpo.advantages sc Grpo.defaultEps batch |> Array.forall (fun a -> abs (Array.average a) < 1e-9)))

          forAll "advantages are invariant to adding a constant to a group's rewards" (Gen.zip batchGen (Gen.choose (-40, 40))) (fun (batch, k) ->
              let c = float k / 4.0
              let shifted = batch |> Array.mapi (fun i g -> if i = 0 then g |> Array.map ((+) c) else g)
              let shiftedAll = batch |> Array.map (Array.map ((+) c))
              allClose (Grpo.advantages GroupScale 1e-4 batch) (Grpo.advantages GroupScale 1e-4 shifted)
              && allClose (Grpo.advantages NoScale 1e-4 batch) (Grpo.advantages NoScale 1e-4 shifted)
              // The batch std changes when one group moves; a shift of the whole batch leaves it alone.
              && allClose (Grpo.advantages BatchScale 1e-4 batch) (Grpo.advantages BatchScale 1e-4 shiftedAll))

          forAll "tied groups give exactly zero advantages" batchGen (fun batch ->
              let advs = scales |> List.map (fun sc -> Grpo.advantages sc 1e-4 batch)
              Array.forall2
                  (fun g i -> not (isTied g) || advs |> List.forall (fun a -> Array.forall ((=) 0.0) (Array.get a i)))
                  batch
                  (Array.init batch.Length id))

          forAll "group scaling divides by the group std (population and Bessel)" batchGen (fun batch ->
              let noScale = Grpo.advantages NoScale 0.0 batch
              let scaled = Grpo.advantagesWith Population GroupScale 0.0 batch
              let expected =
                  Array.map2 (fun (g: float[]) (c: float[]) ->
                      let m = Array.average g
                      let s = sqrt (g |> Array.averageBy (fun r -> (r - m) ** 2.0))
                      if isTied g then c else c |> Array.map (fun x -> x / s)) batch noScale
              allClose scaled expected
              // Bessel: the scaled group has sample std 1 (eps = 0), when it has two distinct values or more.
              && Array.forall2 (fun g a -> isTied g || close (Grpo.std Bessel a) 1.0) batch (Grpo.advantages GroupScale 0.0 batch))

          forAll "zeroStdFraction counts tied groups" batchGen (fun batch ->
              let expected = float (batch |> Array.filter isTied |> Array.length) / float batch.Length
              Grpo.zeroStdFraction batch = expected)

          testCase "advantages, worked example" (fun () ->
              // Group [0; 1]: mean 0.5, Bessel std sqrt(0.5) = 0.70711 -> +-0.70711; population std 0.5 -> +-1.
              let a = Grpo.advantages GroupScale 0.0 [| [| 0.0; 1.0 |] |]
              Expect.floatClose Accuracy.veryHigh (a[0][1]) (sqrt 0.5) "bessel"
              Expect.floatClose Accuracy.veryHigh (a[0][0]) (-(sqrt 0.5)) "bessel"
              let p = Grpo.advantagesWith Population GroupScale 0.0 [| [| 0.0; 1.0 |] |]
              Expect.equal p [| [| -1.0; 1.0 |] |] "population"
              // eps = 1e-4: 0.5 / (0.70711 + 1e-4).
              let e = Grpo.advantages GroupScale 1e-4 [| [| 0.0; 1.0 |] |]
              Expect.floatClose Accuracy.veryHigh (e[0][1]) (0.5 / (sqrt 0.5 + 1e-4)) "eps"
              // Batch [[0; 1]; [1; 1]]: batch mean 0.75, Bessel var (0.5625 + 3 * 0.0625) / 3 = 0.25, std 0.5;
              // group 1: (0 - 0.5) / 0.5 = -1, (1 - 0.5) / 0.5 = 1; group 2 tied -> 0.
              let b = Grpo.advantages BatchScale 0.0 [| [| 0.0; 1.0 |]; [| 1.0; 1.0 |] |]
              Expect.equal b [| [| -1.0; 1.0 |]; [| 0.0; 0.0 |] |] "batch"
              // NoScale: r - mean: [2; 0; 1] -> mean 1 -> [1; -1; 0].
              Expect.equal (Grpo.advantages NoScale 1e-4 [| [| 2.0; 0.0; 1.0 |] |]) [| [| 1.0; -1.0; 0.0 |] |] "none"
              Expect.equal (Grpo.advantages GroupScale 1e-4 [| [| 0.7 |]; [||] |]) [| [| 0.0 |]; [||] |] "singleton and empty groups"
              // Tied: [1;1] and [2]; not tied: [0;1]; the empty group is not counted -> 2/3.
              Expect.floatClose Accuracy.veryHigh (Grpo.zeroStdFraction [| [| 1.0; 1.0 |]; [| 0.0; 1.0 |]; [| 2.0 |]; [||] |]) (2.0 / 3.0) "tied"
              Expect.equal (Grpo.zeroStdFraction [||]) 0.0 "no groups")

          forAll "aggregations equal their formulas" (Gen.zip perTokenGen (Gen.choose (0, 5))) (fun (pt, extra) ->
              let n = pt.Length
              let maxLen = (if n = 0 then 0 else pt |> Array.map Array.length |> Array.max) + extra + 1
              let mutable sum = 0.0
              let mutable tokens = 0
              let mutable perSeqMeans = 0.0
              for s in pt do
                  for x in s do
                      sum <- sum + x
                  tokens <- tokens + s.Length
                  if s.Length > 0 then perSeqMeans <- perSeqMeans + (Array.sum s / float s.Length)
              let grpo = if n = 0 then 0.0 else perSeqMeans / float n
              let bnpo = if tokens = 0 then 0.0 else sum / float tokens
              let dr = if n = 0 then 0.0 else sum / float (n * maxLen)
              close (Grpo.aggregate GrpoAgg maxLen pt) grpo
              && close (Grpo.aggregate Bnpo maxLen pt) bnpo
              && close (Grpo.aggregate Dapo maxLen pt) bnpo
              && close (Grpo.aggregate DrGrpo maxLen pt) dr
              && close (Grpo.aggregateGlobal Dapo maxLen (3 * tokens) pt) (if tokens = 0 then 0.0 else sum / float (3 * tokens)))

          testCase "aggregations, worked example" (fun () ->
              // [[1;2;3]; [4]], maxLen 4: grpo (2 + 4) / 2 = 3; bnpo = dapo = 10 / 4 = 2.5; dr_grpo 10 / (2 * 4) = 1.25;
              // dapo over a global batch of 8 tokens: 10 / 8 = 1.25.
              let pt = [| [| 1.0; 2.0; 3.0 |]; [| 4.0 |] |]
              Expect.floatClose Accuracy.veryHigh (Grpo.aggregate GrpoAgg 4 pt) 3.0 "grpo"
              Expect.floatClose Accuracy.veryHigh (Grpo.aggregate Bnpo 4 pt) 2.5 "bnpo"
              Expect.floatClose Accuracy.veryHigh (Grpo.aggregate Dapo 4 pt) 2.5 "dapo"
              Expect.floatClose Accuracy.veryHigh (Grpo.aggregate DrGrpo 4 pt) 1.25 "dr_grpo"
              Expect.floatClose Accuracy.veryHigh (Grpo.aggregateGlobal Dapo 4 8 pt) 1.25 "dapo global"
              Expect.equal (Grpo.tokenWeights GrpoAgg 4 [| 3; 1 |]) [| 1.0 / 6.0; 0.5 |] "weights"
              Expect.throwsT<System.ArgumentException> (fun () -> Grpo.aggregate DrGrpo 2 pt |> ignore) "maxLen below a length"
              Expect.equal (Grpo.aggregate GrpoAgg 4 [||]) 0.0 "empty batch")

          forAll "clipped objective is the pessimistic bound" (Gen.zip3 (Gen.choose (0, 300)) rewardGen (Gen.elements [ 0.1; 0.2; 0.28 ])) (fun (r, a, eh) ->
              let ratio = float r / 100.0
              let o = Grpo.clippedObjective 0.2 eh ratio a
              let unclipped = ratio * a
              o <= unclipped + 1e-12
              && (ratio < 0.8 || ratio > 1.0 + eh || close o unclipped)
              && close o (min unclipped ((max 0.8 (min (1.0 + eh) ratio)) * a)))

          testCase "clipped objective and token loss, worked examples" (fun () ->
              // eps 0.2: ratio 1.5, A = 1 -> min(1.5, 1.2) = 1.2; ratio 0.5, A = 1 -> min(0.5, 0.8) = 0.5;
              // ratio 0.5, A = -1 -> min(-0.5, -0.8) = -0.8; ratio 1.5, A = -1 -> min(-1.5, -1.2) = -1.5.
              Expect.floatClose Accuracy.veryHigh (Grpo.clippedObjective 0.2 0.2 1.5 1.0) 1.2 "up, clipped"
              Expect.floatClose Accuracy.veryHigh (Grpo.clippedObjective 0.2 0.2 0.5 1.0) 0.5 "down, A > 0"
              Expect.floatClose Accuracy.veryHigh (Grpo.clippedObjective 0.2 0.2 0.5 -1.0) -0.8 "down, A < 0, clipped"
              Expect.floatClose Accuracy.veryHigh (Grpo.clippedObjective 0.2 0.2 1.5 -1.0) -1.5 "up, A < 0"
              Expect.equal (Grpo.klK3 -1.0 -1.0) 0.0 "kl of equal policies"
              Expect.isGreaterThan (Grpo.klK3 -1.0 -2.0) 0.0 "kl positive"
              // logp = old: ratio 1, loss -A; with beta 0.1 and ref - logp = -1: kl = e^-1 + 1 - 1 = 0.36788.
              Expect.floatClose Accuracy.veryHigh (Grpo.tokenLoss 0.2 0.2 0.0 -1.0 -1.0 -3.0 0.7) -0.7 "no kl"
              Expect.floatClose Accuracy.veryHigh (Grpo.tokenLoss 0.2 0.2 0.1 -1.0 -1.0 -2.0 0.7) (-0.7 + 0.1 * exp -1.0) "kl")

          testCase "parsers" (fun () ->
              for s in scales do
                  Expect.equal (Grpo.parseScale (Grpo.scaleText s)) (Ok s) "scale"
              for a in [ GrpoAgg; Bnpo; DrGrpo; Dapo ] do
                  Expect.equal (Grpo.parseAggregation (Grpo.aggregationText a)) (Ok a) "aggregation"
              Expect.equal (Grpo.parseAggregation "DR-GRPO") (Ok DrGrpo) "alias"
              Expect.isError (Grpo.parseScale "sometimes") "bad scale"
              Expect.isError (Grpo.parseAggregation null) "null") ]
