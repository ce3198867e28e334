/// Shared fixtures and FsCheck configuration for the tests.
module PaFas.Tests.Gen

open System.IO
open Expecto
open PaFas.Core

/// The repository's data/ folder (copied next to the test binary by the host project).
let dataDir =
    let local = Path.Combine(System.AppContext.BaseDirectory, "data")
    if Directory.Exists local then local
    else
        let rec up (d: DirectoryInfo) =
            if isNull d then failwith "data/ folder not found"
            elif File.Exists(Path.Combine(d.FullName, "data", "taxonomy.json")) then Path.Combine(d.FullName, "data")
            else up d.Parent
        up (DirectoryInfo System.AppContext.BaseDirectory)

let taxonomyJson = File.ReadAllText(Path.Combine(dataDir, "taxonomy.json"))
let templatesJson = File.ReadAllText(Path.Combine(dataDir, "templates.json"))

let grammar =
    match Grammar.ofJson taxonomyJson templatesJson with
    | Ok g -> g
    | Error e -> failwithf "grammar: %s" e

let taxonomy = grammar.Taxonomy

/// A fresh folder under the temp directory, named by test area, test, process and a random suffix.
let tempDir (area: string) (name: string) =
    let d = Path.Combine(Path.GetTempPath(), sprintf "pafas-%s-%s-%d-%s" area name System.Environment.ProcessId (System.Guid.NewGuid().ToString("N").Substring(0, 6)))
    Directory.CreateDirectory d |> ignore
    d

/// At least 200 generated cases per property.
let config = { FsCheckConfig.defaultConfig with maxTest = 200 }
let prop name f = testPropertyWithConfig config name f
let forAll name gen f =
    testPropertyWithConfig config name (FsCheck.FSharp.Prop.forAll (FsCheck.FSharp.Arb.fromGen gen) f)

/// The cue "modality:key".
let cue m k : Cue = { Modality = m; Key = k }

/// The availability of the given modalities (at least one).
let availability ms =
    match Availability.create ms with
    | Ok a -> a
    | Error e -> failwith e

/// Runs <c>f</c>, expecting an exception of type 'E whose message contains every one of <c>parts</c>.
let expectMessage<'E when 'E :> exn> (what: string) (parts: string list) (f: unit -> unit) =
    let caught =
        try
            f ()
            None
        with
        | :? 'E as e -> Some e
    match caught with
    | None -> failtestf "%s: no %s" what typeof<'E>.Name
    | Some e -> for p in parts do Expect.stringContains e.Message p (what + ": the message names " + p)
