module PaFas.Tests.GuardTests

// Issue 19: no command overwrites its inputs, a model it reads or the run it starts from; outputs are checked
// before any work; temporary files do not outlive a failure.

open System
open System.IO
open Expecto
open PaFas.Host.IO

let private tempDir = Gen.tempDir "guard"

/// A folder that CheckpointFolder accepts (config.json + tokenizer.json): enough for the guard, which runs before
/// any model is loaded.
let private fakeRun (dir: string) =
    let ck = Path.Combine(dir, "run", "final")
    Directory.CreateDirectory ck |> ignore
    File.WriteAllText(Path.Combine(ck, "config.json"), "{}")
    File.WriteAllText(Path.Combine(ck, "tokenizer.json"), "{}")
    File.WriteAllText(Path.Combine(dir, "run", "metrics.jsonl"), "{}\n")
    Path.Combine(dir, "run")

/// Every file under a folder with its bytes, to show that nothing changed.
let private snapshot (dir: string) =
    Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
    |> Array.sort
    |> Array.map (fun f -> f, File.ReadAllBytes f |> Convert.ToBase64String)

let private refused what parts f = Gen.expectMessage<UsageException> what parts f

let private main (argv: string list) = PaFas.Host.Program.Main(List.toArray argv)

let tests =
    testList
        "Guard"
        [ test "an output file that is an input (directly, through a link, through ..) is refused, naming both" {
              let d = tempDir "file"
              let m = Path.Combine(d, "m.jsonl")
              File.WriteAllText(m, "x\n")
              let input = GuardedInput.File("--data", m)
              refused "same path" [ "--out"; "--data"; m ] (fun () -> OutputGuard.File("--out", m, input))
              Directory.CreateDirectory(Path.Combine(d, "sub")) |> ignore
              refused "through .." [ "--data" ] (fun () -> OutputGuard.File("--out", Path.Combine(d, "sub", "..", "m.jsonl"), input))
              let link = Path.Combine(d, "link.jsonl")
              File.CreateSymbolicLink(link, m) |> ignore
              refused "through a file link" [ link; m ] (fun () -> OutputGuard.File("--out", link, input))
              let dirLink = Path.Combine(d, "dl")
              Directory.CreateSymbolicLink(dirLink, d) |> ignore
              refused "through a folder link" [ "--data" ] (fun () -> OutputGuard.File("--out", Path.Combine(dirLink, "m.jsonl"), input))
              // another name in the same folder, empty (not given) inputs: fine
              OutputGuard.File("--out", Path.Combine(d, "p.jsonl"), input, GuardedInput.File("--val", ""))
              Expect.equal (File.ReadAllText m) "x\n" "the input is untouched"
              Expect.isEmpty (Directory.GetFiles(d, "*.tmp-*")) "no probe file left"
          }

          test "a link cycle does not hang the path resolution" {
              let d = tempDir "cycle"
              let a, b = Path.Combine(d, "a"), Path.Combine(d, "b")
              File.CreateSymbolicLink(a, b) |> ignore
              File.CreateSymbolicLink(b, a) |> ignore
              OutputGuard.Real(Path.Combine(a, "x")) |> ignore
          }

          test "an output folder that is or holds a model or start folder is refused; inside it is fine" {
              let d = tempDir "model"
              let run = fakeRun d
              let model = GuardedInput.Model("--model", run)
              refused "same folder" [ "--out"; "--model"; run ] (fun () -> OutputGuard.Folder("--out", run, null, model))
              refused "holds the checkpoint" [ "--model"; Path.Combine(run, "final") ] (fun () ->
                  OutputGuard.Folder("--out", run, null, GuardedInput.Model("--model", Path.Combine(run, "final"))))
              refused "the resolved checkpoint" [ "final" ] (fun () -> OutputGuard.Folder("--out", Path.Combine(run, "final"), null, model))
              refused "start folder" [ "--init"; "starts from" ] (fun () -> OutputGuard.Folder("--out", run, [ "last" ], GuardedInput.Start("--init", run)))
              OutputGuard.Folder("--out", Path.Combine(run, "eval"), null, model) // a report beside the checkpoints
              OutputGuard.Folder("--out", Path.Combine(d, "grpo"), [ "last" ], GuardedInput.Start("--init", run))
              refused "a file output inside the checkpoint" [ "checkpoint folder" ] (fun () ->
                  OutputGuard.File("--out", Path.Combine(run, "final", "config.json"), model))
          }

          test "an input at a name the command writes into its output folder is refused; other names are fine" {
              let d = tempDir "names"
              let train = Path.Combine(d, "train.jsonl")
              File.WriteAllText(train, "x\n")
              refused "split's train.jsonl" [ "--data"; train ] (fun () ->
                  OutputGuard.Folder("--out", d, PaFas.Host.Data.ProtocolSplit.Files, GuardedInput.File("--data", train)))
              let other = Path.Combine(d, "all.jsonl")
              File.WriteAllText(other, "x\n")
              OutputGuard.Folder("--out", d, PaFas.Host.Data.ProtocolSplit.Files, GuardedInput.File("--data", other))
              refused "anything, when the names are not said" [ "--data" ] (fun () -> OutputGuard.Folder("--out", d, null, GuardedInput.File("--data", other)))
          }

          test "a folder given as an output file, a file as an output folder, or a file on the way is refused at once" {
              let d = tempDir "kind"
              let f = Path.Combine(d, "f.txt")
              File.WriteAllText(f, "x")
              refused "folder as file" [ "is a folder" ] (fun () -> OutputGuard.File("--out", d))
              refused "file as folder" [ "is a file" ] (fun () -> OutputGuard.Folder("--out", f, null))
              refused "file on the way" [ f; "not a folder" ] (fun () -> OutputGuard.File("--out", Path.Combine(f, "x", "y.jsonl")))
              OutputGuard.File("--out", Path.Combine(d, "new", "deeper", "y.jsonl")) // missing folders are made later
              Expect.isFalse (Directory.Exists(Path.Combine(d, "new"))) "the check creates nothing"
          }

          test "AtomicFile removes its temp file when the write or the rename fails" {
              let d = tempDir "atomic"
              let p = Path.Combine(d, "out.txt")
              Expect.throwsT<IOException> (fun () -> AtomicFile.Write(p, fun tmp -> File.WriteAllText(tmp, "half"); raise (IOException "disk full"))) "write fails"
              Expect.throwsT<IOException> (fun () -> AtomicFile.WriteAllText(d, "x")) "a folder as the target"
              Expect.isEmpty (Directory.GetFiles(d)) "no temp file, no output"
          }

          test "every writing command refuses to overwrite its input, exit 2, the input unchanged" {
              let d = tempDir "cmds"
              let run = fakeRun d
              let m = Path.Combine(d, "m.jsonl")
              File.WriteAllText(m, "{\"id\":\"a\"}\n")
              let img = Path.Combine(d, "face.png")
              File.WriteAllBytes(img, [| 137uy; 80uy; 78uy; 71uy |])
              let before = snapshot d
              for argv in
                  [ [ "predict"; "--model"; run; "--list"; m; "--out"; m ]
                    [ "predict"; "--model"; run; "--rgb"; img; "--out"; img ]
                    [ "annotate"; "--data"; m; "--out"; m ]
                    [ "augment"; "--data"; m; "--out"; m ]
                    [ "augment"; "--data"; Path.Combine(d, "x.jsonl"); "--annotations"; m; "--out"; m ]
                    [ "export"; "--format"; "llava"; "--kind"; "sft"; "--data"; m; "--out"; m ]
                    [ "grpo"; "--init"; run; "--out"; run; "--data"; m; "--force" ]
                    [ "grpo"; "--init"; Path.Combine(run, "final"); "--out"; run; "--data"; m; "--force" ]
                    [ "sft"; "--chains"; m; "--out"; d; "--val"; Path.Combine(d, "config.json") ]
                    [ "sft"; "--init"; run; "--out"; run; "--chains"; m; "--force" ]
                    [ "eval"; "--model"; run; "--out"; run; "--data"; m ]
                    [ "score"; "--model"; run; "--data"; m; "--out"; m ]
                    [ "metrics"; "--scores"; m; "--out"; d ]
                    [ "split"; "--data"; Path.Combine(d, "test.jsonl"); "--protocol"; "p1-W"; "--out"; d ]
                    [ "export"; "--model"; run; "--out"; run ]
                    [ "predict"; "--model"; run; "--list"; m; "--out"; d ] ] do
                  let name = String.Join(" ", argv)
                  Expect.equal (main argv) 2 name
                  Expect.equal (snapshot d) before (name + ": nothing changed")
          } ]
