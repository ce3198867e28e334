module PaFas.Tests.SplitTests

open System
open System.IO
open Expecto
open PaFas.Core
open PaFas.Host.Data

let private sample (domain: string) (i: int) =
    let live = i % 3 = 0
    SampleRecord(
        sprintf "%s-%03d" domain i, sprintf "%s/%d_rgb.png" domain i, null, null,
        (if live then [| "Real Face" |] else [| "Spoof Face"; "External Spoofing Attacks"; "Presentation Media Attacks"; "Print Attacks"; "Flat Print Attack" |]),
        (if live then "" else "Flat Print Attack"), domain, null, sprintf "m.jsonl:%d" (i + 1))

let private world (perDomain: int) (domains: string list) =
    [ for d in domains do for i in 0 .. perDomain - 1 -> sample d i ] |> ResizeArray :> Collections.Generic.IReadOnlyList<_>

let private make (all: Collections.Generic.IReadOnlyList<SampleRecord>) (name: string) seed =
    let p = (Protocols.tryFind name).Value
    ProtocolSplit.Make(all, p.Name, List.toArray p.Sources, List.toArray p.Targets, 0.15, seed, "world/manifest.jsonl")

let tests =
    testList
        "Split"
        [ test "every protocol: test = the targets, train + validation = the sources, disjoint, seeded" {
              let all = world 40 [ "C"; "P"; "S"; "W" ]
              for p in Protocols.protocol1 @ Protocols.protocol3 do
                  let struct (train, valid, test) = make all p.Name 7
                  let ids (xs: ResizeArray<SampleRecord>) = xs |> Seq.map (fun s -> s.Id) |> Set.ofSeq
                  let domains (xs: ResizeArray<SampleRecord>) = xs |> Seq.map (fun s -> s.Domain) |> Set.ofSeq
                  Expect.equal (domains test) (Set.ofList p.Targets) (p.Name + ": test domains")
                  Expect.equal (domains (ResizeArray(Seq.append train valid))) (Set.ofList p.Sources) (p.Name + ": source domains")
                  Expect.equal (test.Count) (40 * p.Targets.Length) (p.Name + ": every target sample is tested")
                  Expect.equal (train.Count + valid.Count) (40 * p.Sources.Length) (p.Name + ": every source sample is used")
                  Expect.isTrue (Set.intersect (ids train) (ids valid)).IsEmpty (p.Name + ": train and validation are disjoint")
                  Expect.equal valid.Count (ProtocolSplit.ValidationCount(40 * p.Sources.Length, 0.15)) (p.Name + ": validation size")
                  let struct (train2, valid2, _) = make all p.Name 7
                  Expect.equal (ids train2) (ids train) (p.Name + ": same seed, same split")
                  Expect.equal (ids valid2) (ids valid) (p.Name + ": same seed, same validation")
              let struct (_, v1, _) = make all "p1-W" 1
              let struct (_, v2, _) = make all "p1-W" 2
              Expect.notEqual (v1 |> Seq.map (fun s -> s.Id) |> Set.ofSeq) (v2 |> Seq.map (fun s -> s.Id) |> Set.ofSeq) "another seed, another validation split"
          }

          test "a protocol naming a domain the manifest lacks is an error naming the manifest, protocol and domains" {
              let all = world 20 [ "C"; "P"; "S" ]
              let msg =
                  try
                      make all "p1-W" 1 |> ignore
                      ""
                  with :? InvalidDataException as e -> e.Message
              Expect.stringContains msg "world/manifest.jsonl" "names the manifest"
              Expect.stringContains msg "p1-W" "names the protocol"
              Expect.stringContains msg "domain W" "names the missing domain"
              Expect.stringContains msg "C, P, S" "lists the domains present"
              let msg3 =
                  try
                      make (world 20 [ "C"; "W" ]) "p3-CW" 1 |> ignore
                      ""
                  with :? InvalidDataException as e -> e.Message
              Expect.stringContains msg3 "domains P, S" "names both missing source domains"
          }

          test "too few source samples for a validation split is an error, not an empty training set" {
              let all = world 2 [ "C"; "P"; "S"; "W" ]
              Expect.throwsT<InvalidDataException> (fun () -> make all "p1-W" 1 |> ignore) "6 sources < 8 validation + 1 train is refused"
              let struct (train, _, _) = make (world 3 [ "C"; "P"; "S"; "W" ]) "p1-W" 1
              Expect.equal train.Count 1 "9 sources = 8 validation + 1 train is accepted"
          }

          test "pafas split writes the three manifests and split.json; they load back" {
              let dir = Gen.tempDir "split" "cmd"
              let manifest = Path.Combine(dir, "manifest.jsonl")
              Manifest.WriteJsonl(manifest, world 30 [ "C"; "P"; "S"; "W" ])
              let args: SplitArgs =
                  { Data = manifest; Root = ""; Protocol = "CW->PS"; Sources = []; Targets = []; Out = Path.Combine(dir, "p3"); ValFraction = 0.2
                    Common = { Threads = 0; Device = "cpu"; Seed = 5; Verbose = false } }
              Expect.equal (PaFas.Host.Commands.SplitCommand.Run(args, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)) 0 "exit code"
              let load f = Manifest.Load(Path.Combine(dir, "p3", f))
              Expect.equal (load "test.jsonl").Count 60 "P and S are the test set"
              Expect.equal ((load "train.jsonl").Count + (load "val.jsonl").Count) 60 "C and W are train + validation"
              Expect.equal (load "val.jsonl").Count 12 "20% validation"
              let info = File.ReadAllText(Path.Combine(dir, "p3", "split.json"))
              Expect.stringContains info "\"p3-PS\"" "split.json names the protocol"
          } ]
