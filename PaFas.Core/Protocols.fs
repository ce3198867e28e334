namespace PaFas.Core

/// A cross-domain evaluation protocol (MMDG, CVPR 2024, as used by PA-FAS). Domains are one-letter codes:
/// C = CASIA-CeFA, P = PADISI-USC, S = CASIA-SURF, W = WMCA.
type Protocol =
    { /// Short id: "p1-W" (leave W out), "p2-W-depth" (and depth missing at test), "p3-PS" (train CW, test PS).
      Name: string
      Sources: string list
      Targets: string list
      /// Modalities removed from every test sample (Protocol 2).
      Drop: Modality list
      Description: string }

[<RequireQualifiedAccess>]
module Protocols =
    /// Domain codes and dataset names, in the order used by the names.
    let domains = [ "C", "CASIA-CeFA"; "P", "PADISI-USC"; "S", "CASIA-SURF"; "W", "WMCA" ]

    let private codes = domains |> List.map fst
    let private datasetName code = domains |> List.tryFind (fst >> (=) code) |> Option.map snd |> Option.defaultValue code

    /// The paper's notation: "CPS->W".
    let arrow (p: Protocol) = String.concat "" p.Sources + "->" + String.concat "" p.Targets

    let private dropText (ms: Modality list) =
        match ms with
        | [] -> "none"
        | [ m ] -> Modality.key m
        | [ Modality.Depth; Modality.Ir ] -> "both"
        | ms -> ms |> List.map Modality.key |> String.concat "+"

    let private describe (sources: string list) (targets: string list) =
        sprintf "train on %s, test on %s" (sources |> List.map datasetName |> String.concat ", ") (targets |> List.map datasetName |> String.concat ", ")

    /// Protocol 1: leave one domain out (CPS->W, CPW->S, CSW->P, PSW->C).
    let protocol1 =
        codes
        |> List.map (fun t ->
            let sources = codes |> List.filter ((<>) t)
            { Name = "p1-" + t
              Sources = sources
              Targets = [ t ]
              Drop = []
              Description = sprintf "Protocol 1 (%s): leave %s out; %s" (String.concat "" sources + "->" + t) t (describe sources [ t ]) })

    /// Protocol 2: each Protocol 1 split with depth, IR, or both missing at test.
    let protocol2 =
        [ for p in protocol1 do
              for drop in [ [ Modality.Depth ]; [ Modality.Ir ]; [ Modality.Depth; Modality.Ir ] ] ->
                  let t = List.head p.Targets
                  { p with
                      Name = sprintf "p2-%s-%s" t (dropText drop)
                      Drop = drop
                      Description =
                          sprintf "Protocol 2 (%s, %s missing at test): %s" (arrow p) (drop |> List.map Modality.key |> String.concat " and ")
                              (describe p.Sources p.Targets) } ]

    /// Protocol 3: limited sources (CW->PS, PS->CW).
    let protocol3 =
        [ [ "C"; "W" ], [ "P"; "S" ]; [ "P"; "S" ], [ "C"; "W" ] ]
        |> List.map (fun (s, t) ->
            { Name = "p3-" + String.concat "" t
              Sources = s
              Targets = t
              Drop = []
              Description = sprintf "Protocol 3 (%s->%s): limited sources; %s" (String.concat "" s) (String.concat "" t) (describe s t) })

    /// Every protocol: 4 of Protocol 1, 12 of Protocol 2, 2 of Protocol 3.
    let all = protocol1 @ protocol2 @ protocol3

    /// Finds a protocol by name ("p1-W", "p2-W-ir", "p3-PS"), case-insensitive; the paper's arrow notation
    /// ("CPS->W", "CW->PS") finds the protocol without a dropped modality.
    let tryFind (name: string) : Protocol option =
        if isNull name then None
        else
            let n = name.Trim().Replace(" ", "")
            let eq (a: string) = System.String.Equals(a, n, System.StringComparison.OrdinalIgnoreCase)
            all
            |> List.tryFind (fun p -> eq p.Name)
            |> Option.orElse (all |> List.tryFind (fun p -> p.Drop.IsEmpty && eq (arrow p)))

    /// Reads the modalities missing at test: "depth", "ir", "depth,ir" (any order, ',' or '+'), "both" (depth and IR),
    /// "none" or "" (nothing). Names as Modality.tryParse reads them; RGB may be named, but not all three.
    let parseDrop (s: string) : Result<Modality list, string> =
        let text = if isNull s then "" else s.Trim().ToLowerInvariant()
        match text with
        | "" | "none" -> Ok []
        | "both" -> Ok [ Modality.Depth; Modality.Ir ]
        | _ ->
            let parts = text.Split([| ','; '+' |]) |> Array.map (fun p -> p.Trim())
            match parts |> Array.tryFind (fun p -> (Modality.tryParse p).IsNone) with
            | Some bad -> Error(sprintf "unknown modality '%s' in '%s' (expected depth, ir, depth,ir, both or none)" bad s)
            | None ->
                let ms = parts |> Array.choose Modality.tryParse |> Set.ofArray
                if ms.Count = Modality.all.Length then Error(sprintf "'%s' drops every modality" s)
                else Ok(Modality.all |> List.filter ms.Contains)

    /// Checks a protocol: a name, non-empty disjoint source and target lists without duplicates, a drop that
    /// leaves at least one modality.
    let validate (p: Protocol) : Result<unit, string> =
        let errors =
            [ if System.String.IsNullOrWhiteSpace p.Name then yield "the protocol has no name"
              if p.Sources.IsEmpty then yield sprintf "%s: no source domains" p.Name
              if p.Targets.IsEmpty then yield sprintf "%s: no target domains" p.Name
              if List.distinct p.Sources <> p.Sources then yield sprintf "%s: repeated source domain" p.Name
              if List.distinct p.Targets <> p.Targets then yield sprintf "%s: repeated target domain" p.Name
              match Set.intersect (Set.ofList p.Sources) (Set.ofList p.Targets) |> Set.toList with
              | [] -> ()
              | both -> yield sprintf "%s: domains both source and target: %s" p.Name (String.concat ", " both)
              if Set.ofList p.Drop = Set.ofList Modality.all then yield sprintf "%s: drops every modality" p.Name ]
        if errors.IsEmpty then Ok() else Error(String.concat "; " errors)
