namespace PaFas.Core

/// The three imaging modalities of a multimodal FAS camera.
[<RequireQualifiedAccess>]
type Modality =
    | Rgb
    | Depth
    | Ir

/// Functions over modalities.
[<RequireQualifiedAccess>]
module Modality =
    /// Fixed order used everywhere (tensors, prompts, exports): RGB, depth, IR.
    let all = [ Modality.Rgb; Modality.Depth; Modality.Ir ]

    /// Lower-case key used in files: "rgb", "depth", "ir".
    let key =
        function
        | Modality.Rgb -> "rgb"
        | Modality.Depth -> "depth"
        | Modality.Ir -> "ir"

    /// Reads "rgb" / "depth" / "ir" (case-insensitive; "color", "infrared" accepted).
    let tryParse (s: string) =
        match (if isNull s then "" else s.Trim().ToLowerInvariant()) with
        | "rgb" | "color" | "colour" -> Some Modality.Rgb
        | "depth" -> Some Modality.Depth
        | "ir" | "infrared" | "nir" -> Some Modality.Ir
        | _ -> None

    /// Zero-based index in the fixed order (RGB 0, depth 1, IR 2).
    let index m = List.findIndex ((=) m) all

/// An observable trace in one modality, e.g. `depth:flat` or `ir:pupil`. The vocabulary is data
/// (data/templates.json); `Cue.tryParse` checks the syntax, the grammar checks membership.
type Cue =
    { Modality: Modality
      Key: string }
    override this.ToString() = Modality.key this.Modality + ":" + this.Key

[<RequireQualifiedAccess>]
module Cue =
    /// Parses "modality:key", e.g. "depth:flat".
    let tryParse (s: string) : Cue option =
        if isNull s then None
        else
            match s.Trim().Split(':') with
            | [| m; k |] when k.Trim() <> "" ->
                Modality.tryParse m |> Option.map (fun m -> { Modality = m; Key = k.Trim().ToLowerInvariant() })
            | _ -> None

    let text (c: Cue) = c.ToString()

/// The modalities a sample actually has (at least one). A missing modality is absent from the set,
/// never a black image.
type Availability = private Availability of Set<Modality>

[<RequireQualifiedAccess>]
module Availability =
    let create (ms: Modality seq) : Result<Availability, string> =
        let s = Set.ofSeq ms
        if s.IsEmpty then Error "a sample needs at least one modality" else Ok(Availability s)

    let all = Availability(Set.ofList Modality.all)
    /// The availability of a sample from which of its RGB, depth and IR images are present: the one place where
    /// present images become an availability (manifest samples, decoded faces, exports).
    let ofPresence (rgb: bool) (depth: bool) (ir: bool) =
        create [ if rgb then Modality.Rgb
                 if depth then Modality.Depth
                 if ir then Modality.Ir ]
    let set (Availability s) = s
    let has m (Availability s) = s.Contains m
    /// Present modalities in the fixed order.
    let toList (Availability s) = Modality.all |> List.filter s.Contains
    /// Removes modalities (Protocol 2); fails if none would be left.
    let drop (ms: Modality seq) (Availability s) = create (Set.difference s (Set.ofSeq ms))

/// Per-sample cue annotation: the cues observed present (from the synthetic world's ground truth, the
/// annotator, or an external model).
type Annotation = Set<Cue>
