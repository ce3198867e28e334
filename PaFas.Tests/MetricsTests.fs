module PaFas.Tests.MetricsTests

open Expecto
open FsCheck.FSharp
open PaFas.Core

let private live d s = { Score = s; IsLive = true; Attack = ""; Domain = d }
let private spoof d a s = { Score = s; IsLive = false; Attack = a; Domain = d }
let private close (a: float) (b: float) = abs (a - b) <= 1e-12
let private forAll name gen f = testPropertyWithConfig Gen.config name (Prop.forAll (Arb.fromGen gen) f)
let private approx (a: float) (b: float) msg = Expect.floatClose Accuracy.veryHigh a b msg

/// The worked example: 4 lives (0.9 A, 0.8 B, 0.6 A, 0.3 B) and 4 spoofs, print (0.7 A, 0.2 B) and replay (0.4 A, 0.1 B).
let private example =
    [| live "A" 0.9; live "B" 0.8; live "A" 0.6; live "B" 0.3
       spoof "A" "print" 0.7; spoof "B" "print" 0.2; spoof "A" "replay" 0.4; spoof "B" "replay" 0.1 |]

/// Scored sets with both classes: scores on a coarse grid (many ties), three attack types, two domains.
let private scoredGen: FsCheck.Gen<Scored[]> =
    let one =
        Gen.map4
            (fun s l a d -> { Score = float s / 10.0; IsLive = l; Attack = a; Domain = d })
            (Gen.choose (0, 20))
            (Gen.elements [ true; false ])
            (Gen.elements [ "print"; "replay"; "mask" ])
            (Gen.elements [ "X"; "Y" ])
    Gen.choose (0, 30)
    |> Gen.bind (fun n -> Gen.arrayOfLength n one)
    |> Gen.bind (fun xs ->
        Gen.map2 (fun a b -> Array.append [| { a with IsLive = true }; { b with IsLive = false } |] xs) one one)

/// Mann-Whitney by brute force over all (live, spoof) pairs.
let private bruteAuc (xs: Scored[]) =
    let ls = xs |> Array.filter (fun s -> s.IsLive)
    let ss = xs |> Array.filter (fun s -> not s.IsLive)
    let wins =
        [ for l in ls do
              for s in ss -> if l.Score > s.Score then 1.0 elif l.Score = s.Score then 0.5 else 0.0 ]
        |> List.sum
    wins / float (ls.Length * ss.Length)

let private inUnit x = x >= 0.0 && x <= 1.0

let tests =
    testList
        "Metrics"
        [ testCase "worked example at threshold 0.5" (fun () ->
              // Lives rejected (score < 0.5): 0.3 -> BPCER = 1/4. Print accepted: 0.7 -> APCER(print) = 1/2;
              // replay accepted: none -> 0. APCER = 0.5, ACER = (0.5 + 0.25) / 2 = 0.375.
              // FAR = 1/4 (0.7 of 4 attacks), FRR = 1/4, HTER = 0.25.
              approx (Metrics.bpcer 0.5 example) 0.25 "bpcer"
              Expect.equal (Metrics.apcerPerAttack 0.5 example) [ "print", 0.5; "replay", 0.0 ] "apcer per attack"
              approx (Metrics.apcer 0.5 example) 0.5 "apcer"
              approx (Metrics.acer 0.5 example) 0.375 "acer"
              approx (Metrics.far 0.5 example) 0.25 "far"
              approx (Metrics.hter 0.5 example) 0.25 "hter"
              // Decision is score >= threshold: at 0.7 the print at 0.7 is accepted.
              approx (Metrics.apcer 0.7 example) 0.5 "at threshold")

          testCase "worked example: AUC and EER" (fun () ->
              // Pairs live > spoof: 0.9 beats 4, 0.8 beats 4, 0.6 beats 3 (not 0.7), 0.3 beats 2 -> 13/16.
              approx (Metrics.auc example) 0.8125 "auc"
              // Thresholds (FRR, FAR): 0.1 (0, 1), 0.2 (0, 3/4), 0.3 (0, 1/2), 0.4 (1/4, 1/2), 0.6 (1/4, 1/4),
              // 0.7 (1/2, 1/4), 0.8 (1/2, 0), 0.9 (3/4, 0) -> |FAR - FRR| = 0 only at 0.6: EER 0.25.
              let e = Metrics.eer example
              approx e.Eer 0.25 "eer"
              approx e.Threshold 0.6 "eer threshold"
              approx e.Far 0.25 "far"
              approx e.Frr 0.25 "frr"
              // Ties: lives [0.5; 0.5] vs spoofs [0.5; 0.2]: 2 ties (1/2 each) + 2 wins -> 3/4.
              approx (Metrics.auc [| live "" 0.5; live "" 0.5; spoof "" "x" 0.5; spoof "" "x" 0.2 |]) 0.75 "ties"
              // Fewer than 100 attacks: no TPR at FPR 1e-2.
              Expect.equal (Metrics.tprAtFpr 1e-2 example) None "too few attacks")

          testCase "worked example: report with the threshold set on the test set" (fun () ->
              let r = Metrics.report None example |> Result.defaultWith failwith
              Expect.isFalse r.ThresholdFromValidation "test threshold"
              approx r.Threshold 0.6 "the test EER threshold"
              Expect.isNonEmpty r.Warnings "warned"
              // At 0.6: BPCER 1/4 (0.3), APCER print 1/2 (0.7), replay 0 -> ACER 0.375; FAR 1/4 -> HTER 0.25.
              approx r.Bpcer 0.25 "bpcer"
              approx r.Apcer 0.5 "apcer"
              approx r.Acer 0.375 "acer"
              approx r.Hter 0.25 "hter"
              approx r.Auc 0.8125 "auc"
              Expect.equal (r.Lives, r.Spoofs) (4, 4) "counts"
              Expect.equal (r.PerAttack |> List.map (fun a -> a.Attack, a.Count)) [ "print", 2; "replay", 2 ] "per attack"
              Expect.equal (r.TprAtFpr |> List.map fst) [ 1e-2; 1e-3; 1e-4 ] "fprs"
              Expect.isTrue (r.TprAtFpr |> List.forall (snd >> Option.isNone)) "not measurable"
              // Domain A: lives 0.9, 0.6 (none rejected), print 0.7 accepted, replay 0.4 rejected:
              //   BPCER 0, APCER max(1, 0) = 1, ACER 0.5, FAR 1/2 -> HTER 0.25, AUC (2 + 1) / 4 = 0.75.
              // Domain B: lives 0.8, 0.3 (0.3 rejected), spoofs 0.2, 0.1 rejected:
              //   BPCER 1/2, APCER 0, ACER 0.25, HTER 0.25, AUC 1.
              match r.PerDomain with
              | [ a; b ] ->
                  Expect.equal (a.Domain, a.Lives, a.Spoofs) ("A", 2, 2) "A"
                  Expect.equal (a.Bpcer, a.Apcer, a.Acer, a.Hter, a.Auc) (Some 0.0, Some 1.0, Some 0.5, Some 0.25, Some 0.75) "A"
                  Expect.equal (b.Domain, b.Bpcer, b.Apcer, b.Acer, b.Hter, b.Auc) ("B", Some 0.5, Some 0.0, Some 0.25, Some 0.25, Some 1.0) "B"
              | other -> failtestf "two domains expected, got %A" other)

          testCase "worked example: threshold from validation" (fun () ->
              // Validation: lives 0.9, 0.7; spoofs 0.2, 0.4. At 0.7: FAR 0, FRR 0 -> EER 0, threshold 0.7.
              let v = [| live "V" 0.9; live "V" 0.7; spoof "V" "print" 0.2; spoof "V" "print" 0.4 |]
              let r = Metrics.report (Some v) example |> Result.defaultWith failwith
              Expect.isTrue r.ThresholdFromValidation "from validation"
              approx r.Threshold 0.7 "val EER threshold"
              Expect.equal r.ValEer (Some 0.0) "val eer"
              // Test at 0.7: lives rejected 0.6, 0.3 -> BPCER 1/2; print 0.7 accepted -> APCER 1/2; ACER 0.5;
              // FAR 1/4 -> HTER (0.25 + 0.5) / 2 = 0.375. The test EER stays 0.25 at 0.6.
              approx r.Bpcer 0.5 "bpcer"
              approx r.Apcer 0.5 "apcer"
              approx r.Acer 0.5 "acer"
              approx r.Hter 0.375 "hter"
              approx r.Eer 0.25 "test eer"
              approx r.EerThreshold 0.6 "test eer threshold")

          testCase "TPR at FPR, worked example" (fun () ->
              // 100 attacks at 0.00 .. 0.99; lives 1.5, 1.2, 0.985 and seven at 0.5.
              // FPR 1e-2 allows one attack: threshold 0.985 accepts attack 0.99 and lives 1.5, 1.2, 0.985 -> 0.3
              // (threshold 0.98 would accept two attacks). 1e-3 and 1e-4 need 1000 and 10000 attacks.
              let xs =
                  Array.append
                      (Array.init 100 (fun i -> spoof "" "print" (float i / 100.0)))
                      (Array.append [| live "" 1.5; live "" 1.2; live "" 0.985 |] (Array.create 7 (live "" 0.5)))
              Expect.equal (Metrics.tprAtFpr 1e-2 xs) (Some 0.3) "tpr@1e-2"
              Expect.equal (Metrics.tprAtFpr 1e-3 xs) None "tpr@1e-3"
              Expect.equal (Metrics.tprAtFpr 1e-4 xs) None "tpr@1e-4")

          testCase "errors" (fun () ->
              let msg r = match r with Error (e: string) -> e | Ok _ -> failtest "expected an error"
              Expect.stringContains (msg (Metrics.report None [||])) "no scored samples" "empty"
              Expect.stringContains (msg (Metrics.report None [| live "" 0.1; live "" 0.2 |])) "no spoof" "lives only"
              Expect.stringContains (msg (Metrics.report None [| spoof "" "x" 0.1 |])) "no live" "spoofs only"
              Expect.stringContains (msg (Metrics.report None [| live "" 0.1; spoof "" "x" 0.2; live "" nan |])) "sample 2" "nan"
              Expect.stringContains (msg (Metrics.report None [| live "" infinity; spoof "" "x" 0.2 |])) "sample 0" "inf"
              Expect.stringContains (msg (Metrics.report (Some [||]) example)) "validation set" "bad validation"
              Expect.stringContains (msg (Metrics.report (Some example) [||])) "test set" "bad test")

          testCase "roc, worked example" (fun () ->
              let pts = Metrics.roc example
              Expect.equal pts[0] (0.0, 0.0, infinity) "accepts nothing"
              // Threshold 0.6: lives 0.9, 0.8, 0.6 (3/4) and the attack at 0.7 (1/4).
              Expect.contains pts (0.25, 0.75, 0.6) "the EER point"
              Expect.equal pts[pts.Length - 1] (1.0, 1.0, 0.1) "accepts everything"
              Expect.equal pts.Length 9 "8 unique scores + the start")

          forAll "AUC equals the brute-force Mann-Whitney statistic" scoredGen (fun xs -> close (Metrics.auc xs) (bruteAuc xs))

          forAll "AUC is invariant under strictly increasing score transforms" scoredGen (fun xs ->
              let f x = exp (3.0 * x) + x ** 3.0 - 7.0
              close (Metrics.auc xs) (Metrics.auc (xs |> Array.map (fun s -> { s with Score = f s.Score }))))

          forAll "AUC with labels flipped is 1 - AUC" scoredGen (fun xs ->
              close (Metrics.auc (xs |> Array.map (fun s -> { s with IsLive = not s.IsLive }))) (1.0 - Metrics.auc xs))

          forAll "AUC is the trapezoid area under the ROC" scoredGen (fun xs ->
              let pts = Metrics.rocPoints xs
              let area = pts |> Array.pairwise |> Array.sumBy (fun (a, b) -> (b.Fpr - a.Fpr) * (a.Tpr + b.Tpr) / 2.0)
              let monotone = pts |> Array.pairwise |> Array.forall (fun (a, b) -> b.Fpr >= a.Fpr && b.Tpr >= a.Tpr && b.Threshold < a.Threshold)
              close area (Metrics.auc xs) && monotone && pts[pts.Length - 1].Fpr = 1.0 && pts[pts.Length - 1].Tpr = 1.0)

          forAll "HTER, ACER, APCER, BPCER, FAR lie in [0, 1] at any threshold" (Gen.zip scoredGen (Gen.choose (-5, 25))) (fun (xs, t) ->
              let t = float t / 10.0
              [ Metrics.hter t xs; Metrics.acer t xs; Metrics.apcer t xs; Metrics.bpcer t xs; Metrics.far t xs ]
              |> List.forall inUnit
              && Metrics.apcerPerAttack t xs |> List.forall (snd >> inUnit)
              && Metrics.apcer t xs >= Metrics.far t xs - 1e-12)

          forAll "EER minimises |FAR - FRR| over the score thresholds" scoredGen (fun xs ->
              let e = Metrics.eer xs
              let gap t = abs (Metrics.far t xs - Metrics.frr t xs)
              inUnit e.Eer
              && xs |> Array.exists (fun s -> s.Score = e.Threshold)
              && close e.Far (Metrics.far e.Threshold xs)
              && close e.Frr (Metrics.frr e.Threshold xs)
              && xs |> Array.forall (fun s -> gap e.Threshold <= gap s.Score + 1e-12))

          forAll "TPR at FPR is the best TPR within the FAR budget" (Gen.zip scoredGen (Gen.elements [ 0.05; 0.1; 0.25; 0.5 ])) (fun (xs, f) ->
              let spoofs = xs |> Array.filter (fun s -> not s.IsLive) |> Array.length
              match Metrics.tprAtFpr f xs with
              | None -> float spoofs * f < 1.0
              | Some tpr ->
                  let lives = xs.Length - spoofs
                  let tprAt t = float (xs |> Array.filter (fun s -> s.IsLive && s.Score >= t) |> Array.length) / float lives
                  let feasible = xs |> Array.filter (fun s -> Metrics.far s.Score xs <= f + 1e-12) |> Array.map (fun s -> tprAt s.Score)
                  inUnit tpr && close tpr (Array.fold max 0.0 feasible))

          forAll "report: validation threshold is applied to the test set" (Gen.zip scoredGen scoredGen) (fun (v, t) ->
              match Metrics.report (Some v) t with
              | Error _ -> false
              | Ok r ->
                  let th = (Metrics.eer v).Threshold
                  r.Threshold = th && r.ThresholdFromValidation
                  && close r.Hter (Metrics.hter th t) && close r.Acer (Metrics.acer th t)
                  && [ r.Hter; r.Acer; r.Apcer; r.Bpcer; r.Auc; r.Eer ] |> List.forall inUnit
                  && r.PerDomain |> List.sumBy (fun d -> d.Lives + d.Spoofs) = t.Length) ]
