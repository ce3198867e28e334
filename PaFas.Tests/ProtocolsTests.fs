module PaFas.Tests.ProtocolsTests

open Expecto
open FsCheck.FSharp
open PaFas.Core

let private find name =
    match Protocols.tryFind name with
    | Some p -> p
    | None -> failtestf "protocol %s not found" name

let tests =
    testList
        "Protocols"
        [ testCase "every protocol is valid and uniquely named" (fun () ->
              Expect.equal Protocols.all.Length 18 "4 + 12 + 2"
              Expect.equal (Protocols.all |> List.map (fun p -> p.Name.ToLowerInvariant()) |> List.distinct |> List.length) 18 "unique names"
              for p in Protocols.all do
                  Expect.equal (Protocols.validate p) (Ok()) p.Name
                  Expect.isNotEmpty p.Description p.Name)

          testCase "Protocol 1 leaves one domain out" (fun () ->
              Expect.equal (Protocols.protocol1 |> List.map Protocols.arrow) [ "PSW->C"; "CSW->P"; "CPW->S"; "CPS->W" ] "the paper's four"
              for p in Protocols.protocol1 do
                  Expect.equal (List.sort (p.Sources @ p.Targets)) [ "C"; "P"; "S"; "W" ] p.Name
                  Expect.isEmpty p.Drop p.Name
              let w = find "p1-W"
              Expect.equal (w.Sources, w.Targets) ([ "C"; "P"; "S" ], [ "W" ]) "p1-W")

          testCase "Protocol 2 drops depth, IR or both at test" (fun () ->
              Expect.equal Protocols.protocol2.Length 12 "4 x 3"
              let p = find "p2-W-both"
              Expect.equal (p.Sources, p.Targets, p.Drop) ([ "C"; "P"; "S" ], [ "W" ], [ Modality.Depth; Modality.Ir ]) "both"
              Expect.equal (find "P2-c-IR").Drop [ Modality.Ir ] "ir, case-insensitive"
              Expect.equal (find "p2-s-depth").Drop [ Modality.Depth ] "depth"
              for p1 in Protocols.protocol1 do
                  let variants = Protocols.protocol2 |> List.filter (fun p -> p.Sources = p1.Sources && p.Targets = p1.Targets)
                  Expect.equal (variants |> List.map (fun p -> p.Drop) |> set)
                      (set [ [ Modality.Depth ]; [ Modality.Ir ]; [ Modality.Depth; Modality.Ir ] ]) p1.Name)

          testCase "Protocol 3 has limited sources" (fun () ->
              Expect.equal (Protocols.protocol3 |> List.map Protocols.arrow) [ "CW->PS"; "PS->CW" ] "two"
              Expect.equal (find "cw->ps").Name "p3-PS" "arrow notation"
              Expect.equal (find " CPS -> W ").Name "p1-W" "arrow with spaces"
              Expect.equal (find "p3-cw").Sources [ "P"; "S" ] "by name")

          testCase "tryFind misses" (fun () ->
              Expect.isNone (Protocols.tryFind "p4-W") "unknown"
              Expect.isNone (Protocols.tryFind "") "empty"
              Expect.isNone (Protocols.tryFind null) "null")

          testCase "parseDrop" (fun () ->
              let ok s = match Protocols.parseDrop s with Ok m -> m | Error e -> failtest e
              Expect.equal (ok "depth") [ Modality.Depth ] "depth"
              Expect.equal (ok "IR") [ Modality.Ir ] "ir"
              Expect.equal (ok "depth,ir") [ Modality.Depth; Modality.Ir ] "depth,ir"
              Expect.equal (ok "ir + depth") [ Modality.Depth; Modality.Ir ] "fixed order"
              Expect.equal (ok "both") [ Modality.Depth; Modality.Ir ] "both"
              Expect.equal (ok "none") [] "none"
              Expect.equal (ok "") [] "empty"
              Expect.equal (ok null) [] "null"
              Expect.isError (Protocols.parseDrop "rgb,depth,ir") "everything"
              Expect.isError (Protocols.parseDrop "thermal") "unknown"
              Expect.isError (Protocols.parseDrop "depth,") "dangling comma")

          testPropertyWithConfig Gen.config "parseDrop reads any spelling of a subset of depth and IR"
          <| Prop.forAll
              (Arb.fromGen (
                  Gen.zip3
                      (Gen.subListOf [ "depth"; "DEPTH"; "ir"; "Ir"; "infrared" ] |> Gen.bind Gen.shuffle)
                      (Gen.elements [ ","; "+"; " , " ])
                      (Gen.elements [ ""; " " ])))
              (fun (names, sep, pad) ->
                  let text = pad + String.concat sep names + pad
                  let expected =
                      Modality.all |> List.filter (fun m -> names |> Seq.exists (fun n -> Modality.tryParse n = Some m))
                  Protocols.parseDrop text = Ok expected)

          testCase "validate catches bad protocols" (fun () ->
              let p = find "p1-W"
              Expect.isError (Protocols.validate { p with Targets = [ "C" ] }) "overlap"
              Expect.isError (Protocols.validate { p with Sources = [] }) "no sources"
              Expect.isError (Protocols.validate { p with Sources = [ "C"; "C" ] }) "repeated"
              Expect.isError (Protocols.validate { p with Drop = Modality.all }) "drops everything"
              Expect.isError (Protocols.validate { p with Name = " " }) "no name") ]
