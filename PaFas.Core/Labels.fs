namespace PaFas.Core

open System

/// A validated label: a path of the taxonomy from a child of the root down to a leaf, in canonical spelling. Built
/// only by `TaxonomyPath.tryCreate` / `TaxonomyPath.ofLeaf`.
type TaxonomyPath =
    private
    | TaxonomyPath of Label
    /// The node names, root child first.
    member p.Names = (let (TaxonomyPath l) = p in l)
    member p.Leaf = List.last p.Names
    member p.IsLive = Taxonomy.isLive p.Names

/// The truth of a sample.
type SampleLabel =
    /// A live face or a spoof of an attack the taxonomy names: a full path.
    | FullPath of TaxonomyPath
    /// A spoof whose attack the taxonomy does not name (the data set's name for it, or ""): its label is
    /// ['Spoof Face']; it is scored as a spoof, but no chain can be made for it.
    | UnknownAttack of attack: string

/// What a manifest line gives as its label, before interpretation.
type LabelInput =
    /// A list of node names (a path from a root child).
    | Names of string list
    /// 1/0, "live"/"spoof", "real"/"attack".
    | IsLive of bool
    /// One node name (a leaf, 'Real Face' or 'Spoof Face').
    | Name of string

[<RequireQualifiedAccess>]
module TaxonomyPath =
    /// The canonical path of the given names, or why they are not a root-to-leaf path.
    let tryCreate (t: Taxonomy) (names: string seq) : Result<TaxonomyPath, string> =
        let names = List.ofSeq names
        match names |> List.tryFind (Taxonomy.canonical t >> Option.isNone) with
        | Some bad -> Error(sprintf "unknown label node '%s'" bad)
        | None ->
            let canon = names |> List.map (Taxonomy.canonical t >> Option.get)
            if Taxonomy.isValidLabel t canon then Ok(TaxonomyPath canon)
            else Error(sprintf "label [%s] is not a path of the taxonomy from its root to a leaf" (String.Join(", ", canon)))

    /// The path to a leaf (any spelling `Taxonomy.canonical` accepts); None for a name that is not a leaf.
    let ofLeaf (t: Taxonomy) (leaf: string) =
        match Taxonomy.canonical t leaf with
        | Some n when Taxonomy.isLeaf t n -> Some(TaxonomyPath(Taxonomy.labelOf t n))
        | _ -> None

[<RequireQualifiedAccess>]
module SampleLabel =
    /// The label as a list of names (['Spoof Face'] for an unknown attack).
    let names =
        function
        | FullPath p -> p.Names
        | UnknownAttack _ -> [ Taxonomy.SpoofName ]

    /// The attack: "" for a live face, the leaf of a known attack, the data set's name of an unknown one.
    let attack =
        function
        | FullPath p -> if p.IsLive then "" else p.Leaf
        | UnknownAttack a -> a

    let isLive =
        function
        | FullPath p -> p.IsLive
        | UnknownAttack _ -> false

    /// Data set attack names -> taxonomy leaves (matched case-insensitively, surrounding whitespace ignored).
    let defaultAttackMap =
        [ "print", "Flat Print Attack"; "flat", "Flat Print Attack"; "photo", "Flat Print Attack"
          "wrap", "Wrapped Print Attack"; "wrapped", "Wrapped Print Attack"; "warped", "Wrapped Print Attack"
          "cut", "Print with Cut-outs Attack"; "cutout", "Print with Cut-outs Attack"; "cut-out", "Print with Cut-outs Attack"
          "replay", "Screen Replay Attack"; "screen", "Screen Replay Attack"; "video", "Screen Replay Attack"
          "rigid", "Rigid Mask Attack"; "mask", "Rigid Mask Attack"; "3dmask", "Rigid Mask Attack"
          "silicone", "Silicone Mask Attack"; "papermask", "Paper Mask Attack"; "paper_mask", "Paper Mask Attack"
          "glasses", "Glasses Attack"; "partial", "Glasses Attack" ]
        |> Map.ofList

    /// The spoof leaf of a data set's attack name: a spoof leaf of the taxonomy in any spelling, else the map's entry
    /// (keys matched case-insensitively); None when neither names a leaf.
    let leafOfAttack (t: Taxonomy) (map: Map<string, string>) (attack: string) : string option =
        if String.IsNullOrWhiteSpace attack then None
        else
            match Taxonomy.canonical t attack with
            | Some n when Taxonomy.isLeaf t n && not (Taxonomy.isLive (Taxonomy.labelOf t n)) -> Some n
            | _ ->
                let key = attack.Trim().ToLowerInvariant()
                map
                |> Map.tryPick (fun k v -> if k.Trim().ToLowerInvariant() = key then Some v else None)
                |> Option.bind (Taxonomy.canonical t)
                |> Option.filter (Taxonomy.isLeaf t)

    /// A spoof with the data set's attack name: known when the name maps to a leaf.
    let spoof (t: Taxonomy) (map: Map<string, string>) (attack: string) =
        match leafOfAttack t map attack |> Option.bind (TaxonomyPath.ofLeaf t) with
        | Some p -> FullPath p
        | None -> UnknownAttack(if isNull attack then "" else attack)

    /// The live class.
    let live (t: Taxonomy) = FullPath(TaxonomyPath(Taxonomy.labelOf t Taxonomy.LiveName))

    /// A stored label (names as a manifest reader wrote them, and the attack) read back as a sample's truth:
    /// a full path, or ['Spoof Face'] with the attack's name.
    let ofNames (t: Taxonomy) (names: string seq) (attack: string) : Result<SampleLabel, string> =
        let names = List.ofSeq names
        if names = [ Taxonomy.SpoofName ] then Ok(UnknownAttack(if isNull attack then "" else attack))
        else TaxonomyPath.tryCreate t names |> Result.map FullPath

    /// Label interpretation: what a manifest line gives (and its attack name, for a spoof given without a leaf) as
    /// the sample's truth, or why it cannot be one.
    let interpret (t: Taxonomy) (map: Map<string, string>) (attackRaw: string) (input: LabelInput) : Result<SampleLabel, string> =
        match input with
        | IsLive true -> Ok(live t)
        | IsLive false -> Ok(spoof t map attackRaw)
        | Names names ->
            match names |> List.tryFind (Taxonomy.canonical t >> Option.isNone) with
            | Some bad -> Error(sprintf "unknown label node '%s'" bad)
            | None ->
                let canon = names |> List.map (Taxonomy.canonical t >> Option.get)
                if canon.IsEmpty || Taxonomy.validPrefixLength t canon <> canon.Length then
                    Error(sprintf "label [%s] is not a path of the taxonomy" (String.Join(", ", canon)))
                elif Taxonomy.isValidLabel t canon then Ok(FullPath(TaxonomyPath canon))
                elif canon = [ Taxonomy.SpoofName ] then Ok(spoof t map attackRaw)
                else Error(sprintf "label [%s] does not end at a leaf of the taxonomy" (String.Join(", ", canon)))
        | Name s ->
            let s = if isNull s then "" else s.Trim()
            let is (w: string) = s.Equals(w, StringComparison.OrdinalIgnoreCase)
            if is "live" || is "real" || s = "1" then Ok(live t)
            elif is "spoof" || is "attack" || s = "0" then Ok(spoof t map attackRaw)
            else
                match Taxonomy.canonical t s with
                | None -> Error(sprintf "unknown label '%s'" s)
                | Some n when n = Taxonomy.SpoofName -> Ok(spoof t map attackRaw)
                | Some n when Taxonomy.isLeaf t n -> Ok(FullPath(TaxonomyPath(Taxonomy.labelOf t n)))
                | Some _ -> Error(sprintf "label '%s' is not a leaf of the taxonomy" s)

/// The limited-annotation budget (the paper's ~800 labelled samples).
[<RequireQualifiedAccess>]
module Labelled =
    /// Indices of the labelled subset of samples with the given ids: all of them (in order) when the budget is 0 or
    /// covers them; else a seeded random `budget` of them (System.Random(seed) draws one key per sample in order, a
    /// stable sort by key), returned in ordinal order of their ids.
    let choose (seed: int) (budget: int) (ids: string[]) : int[] =
        if budget <= 0 || ids.Length <= budget then Array.init ids.Length id
        else
            let rng = Random(seed)
            let keys = ids |> Array.map (fun _ -> rng.Next())
            List.init ids.Length id
            |> List.sortBy (fun i -> keys[i])
            |> List.truncate budget
            |> List.sortWith (fun a b -> String.CompareOrdinal(ids[a], ids[b]))
            |> Array.ofList
