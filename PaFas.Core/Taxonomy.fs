namespace PaFas.Core

open System.Text.Json

/// A label: the taxonomy names from a child of the root down to a leaf,
/// e.g. ["Spoof Face"; "External Spoofing Attacks"; ...; "Flat Print Attack"] or ["Real Face"].
type Label = string list

/// The attack taxonomy as a tree of uniquely named nodes. Built only by `Taxonomy.parse`/`Taxonomy.build`,
/// so every map below is consistent.
type Taxonomy =
    private
        { root: string
          children: Map<string, string list>
          parent: Map<string, string>
          leafCues: Map<string, Set<Cue>>
          compat: Map<string, Set<Cue>>
          byLower: Map<string, string>
          depth: int }

/// The input shape of a taxonomy node (as in data/taxonomy.json).
type TaxonomySpec =
    { Name: string
      Cues: string list
      Children: TaxonomySpec list }

[<RequireQualifiedAccess>]
module Taxonomy =
    /// The live class: the only place its name is spelled (C# `const` fields can use it).
    [<Literal>]
    let LiveName = "Real Face"

    [<Literal>]
    let SpoofName = "Spoof Face"

    /// Whitespace-collapsed, lower-case key under which node names are matched (see `canonical`).
    let private nameKey (name: string) =
        System.String.Join(" ", name.Split([| ' '; '\t'; '\n'; '\r' |], System.StringSplitOptions.RemoveEmptyEntries))
            .ToLowerInvariant()

    /// Characters a node name may not contain: they would break the answer list (`['A', 'B']`), the
    /// completion tags or the sentence split of the think text.
    let private forbidden = [| '\''; '"'; ','; '['; ']'; '<'; '>'; '.'; '!'; '?' |]

    /// Builds a taxonomy, checking: non-empty names free of quotes, commas, brackets, angle brackets and
    /// sentence punctuation; names unique even when compared case-insensitively with collapsed whitespace;
    /// root children include 'Real Face' and 'Spoof Face'; leaves carry parseable cues.
    let build (spec: TaxonomySpec) : Result<Taxonomy, string> =
        let errors = ResizeArray<string>()
        let trimName (n: TaxonomySpec) = if isNull (box n) || isNull n.Name then "" else n.Name.Trim()
        let seenKeys = System.Collections.Generic.Dictionary<string, string>()
        let children = System.Collections.Generic.Dictionary<string, string list>()
        let parent = System.Collections.Generic.Dictionary<string, string>()
        let leafCues = System.Collections.Generic.Dictionary<string, Set<Cue>>()
        let rec walk (depth: int) (n: TaxonomySpec) : int =
            let name = trimName n
            let kids = if isNull (box n.Children) then [] else n.Children
            if name = "" then errors.Add "a taxonomy node has an empty name"
            elif name.IndexOfAny forbidden >= 0 then
                errors.Add(sprintf "node '%s': a name may not contain quotes, commas, brackets, '<', '>', '.', '!' or '?'" name)
            match seenKeys.TryGetValue(nameKey name) with
            | true, other -> errors.Add(sprintf "duplicate taxonomy node name '%s' (also '%s')" name other)
            | _ -> seenKeys[nameKey name] <- name
            children[name] <- kids |> List.map trimName
            for c in kids do parent[trimName c] <- name
            if kids.IsEmpty then
                let cues =
                    (if isNull (box n.Cues) then [] else n.Cues)
                    |> List.choose (fun s ->
                        match Cue.tryParse s with
                        | Some c -> Some c
                        | None ->
                            errors.Add(sprintf "node '%s': cue '%s' is not of the form modality:key" name s)
                            None)
                leafCues[name] <- Set.ofList cues
                depth
            else
                kids |> List.map (walk (depth + 1)) |> List.max
        let maxDepth = walk 0 spec
        let root = trimName spec
        let rootKids = match children.TryGetValue root with | true, k -> k | _ -> []
        if not (List.contains LiveName rootKids) then errors.Add "the root has no child 'Real Face'"
        if not (List.contains SpoofName rootKids) then errors.Add "the root has no child 'Spoof Face'"
        if errors.Count > 0 then Error(String.concat "; " errors)
        else
            let childMap = children |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq
            let leafMap = leafCues |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq
            let rec compatOf name =
                match childMap[name] with
                | [] -> leafMap[name]
                | kids -> kids |> List.map compatOf |> Set.unionMany
            Ok
                { root = root
                  children = childMap
                  parent = parent |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq
                  leafCues = leafMap
                  compat = childMap |> Map.map (fun k _ -> compatOf k)
                  byLower = childMap |> Map.toSeq |> Seq.map (fun (k, _) -> nameKey k, k) |> Map.ofSeq
                  depth = maxDepth + 1 }

    let rec private specOf (e: JsonElement) : TaxonomySpec =
        // A node that is not a JSON object has no name, which `build` reports.
        let isObj = e.ValueKind = JsonValueKind.Object
        let str (p: string) =
            match (if isObj then e.TryGetProperty p else (false, Unchecked.defaultof<_>)) with
            | true, v when v.ValueKind = JsonValueKind.String -> v.GetString()
            | _ -> ""
        let arr (p: string) =
            match (if isObj then e.TryGetProperty p else (false, Unchecked.defaultof<_>)) with
            | true, v when v.ValueKind = JsonValueKind.Array -> [ for x in v.EnumerateArray() -> x ]
            | _ -> []
        { Name = str "name"
          Cues = arr "cues" |> List.map (fun x -> if x.ValueKind = JsonValueKind.String then x.GetString() else "?")
          Children = arr "children" |> List.map specOf }

    /// Parses the text of data/taxonomy.json (the host reads the file).
    let parse (json: string) : Result<Taxonomy, string> =
        if isNull json then Error "taxonomy JSON is null"
        else
            try
                use doc = JsonDocument.Parse(json)
                if doc.RootElement.ValueKind <> JsonValueKind.Object then Error "taxonomy JSON must be an object"
                else build (specOf doc.RootElement)
            with :? JsonException as e -> Error("taxonomy JSON is malformed: " + e.Message)

    let root (t: Taxonomy) = t.root
    /// Number of levels including the root (D in the paper's bound alpha*(D-1)).
    let depth (t: Taxonomy) = t.depth
    let contains (t: Taxonomy) name = t.children.ContainsKey name
    let children (t: Taxonomy) name = t.children.TryFind name |> Option.defaultValue []
    let parent (t: Taxonomy) name = t.parent.TryFind name
    let isLeaf (t: Taxonomy) name = t.leafCues.ContainsKey name
    /// Every node name except the root, in depth-first order.
    let nodes (t: Taxonomy) =
        let rec go n = n :: (children t n |> List.collect go)
        go t.root |> List.tail
    /// Leaves in depth-first order.
    let leaves (t: Taxonomy) = nodes t |> List.filter (isLeaf t)
    /// Cues that can be present for a sample whose label lies under this node.
    let compatible (t: Taxonomy) name = t.compat.TryFind name |> Option.defaultValue Set.empty
    /// Canonical spelling of a node name, matched case-insensitively with collapsed whitespace.
    let canonical (t: Taxonomy) (name: string) =
        if isNull name then None
        else t.byLower.TryFind(nameKey name) |> Option.filter ((<>) t.root)
    /// The label (path from a root child to the node).
    let labelOf (t: Taxonomy) name : Label =
        let rec up n acc =
            match t.parent.TryFind n with
            | Some p when p = t.root -> n :: acc
            | Some p -> up p (n :: acc)
            | None -> acc
        if name = t.root || not (contains t name) then [] else up name []
    /// True when the label is a full path from a root child to a leaf.
    let isValidLabel (t: Taxonomy) (label: Label) =
        match label with
        | [] -> false
        | first :: _ ->
            parent t first = Some t.root
            && isLeaf t (List.last label)
            && List.pairwise label |> List.forall (fun (a, b) -> parent t b = Some a)
    /// The longest prefix of the label that is a valid path from the root (for prefix credit).
    let validPrefixLength (t: Taxonomy) (label: Label) =
        let rec go prev n (l: Label) =
            match l with
            | x :: rest when parent t x = Some prev -> go x (n + 1) rest
            | _ -> n
        go t.root 0 label
    let isLive (label: Label) = (match label with x :: _ -> x = LiveName | [] -> false)
    let isSpoof (label: Label) = (match label with x :: _ -> x = SpoofName | [] -> false)
    /// The leaf's name, or "" for an empty label.
    let leaf (label: Label) = match label with [] -> "" | l -> List.last l
