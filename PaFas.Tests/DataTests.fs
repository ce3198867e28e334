module PaFas.Tests.DataTests

open System
open System.IO
open Expecto
open PaFas.Core
open PaFas.Host.Data
open PaFas.Host.Model

let private tmpDir () =
    let d = Path.Combine(Path.GetTempPath(), "pafas-data-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory d |> ignore
    d

let private rgbBytes w h = Array.init (w * h * 3) (fun i -> byte ((i * 7) % 256))
let private grayBytes w h = Array.init (w * h) (fun i -> byte ((i * 13) % 256))

let private expectInvalid (name: string) (f: unit -> unit) =
    let t = Threading.Tasks.Task.Run(fun () ->
        try f (); Some "no exception"
        with
        | :? InvalidDataException as e when e.Message.Contains name -> None
        | e -> Some(sprintf "%s: %s" (e.GetType().Name) e.Message))
    Expect.isTrue (t.Wait(TimeSpan.FromSeconds 10.0)) "decoding must not hang"
    Expect.isNone t.Result "expected InvalidDataException naming the file"

let private writeJpeg (path: string) w h =
    use fs = File.Create path
    StbImageWriteSharp.ImageWriter().WriteJpg(rgbBytes w h, w, h, StbImageWriteSharp.ColorComponents.RedGreenBlue, fs, 90)

let decoding =
    testList "decoding" [
        test "8-bit RGB and gray PNG round trip exactly" {
            let d = tmpDir ()
            let p = Path.Combine(d, "a.png")
            PngWriter.WriteRgb(p, rgbBytes 5 4, 5, 4)
            let img = ImageDecoding.Decode(p, 3)
            Expect.equal (img.Width, img.Height, img.BitDepth) (5, 4, 8) "size"
            Expect.equal (img.Pixels |> Array.map (fun v -> byte (round (v * 255.0f)))) (rgbBytes 5 4) "pixels"
            let g = Path.Combine(d, "g.png")
            PngWriter.WriteGray(g, grayBytes 6 3, 6, 3)
            Expect.equal ((ImageDecoding.Decode(g, 1)).Pixels |> Array.map (fun v -> byte (round (v * 255.0f)))) (grayBytes 6 3) "gray"
        }
        test "16-bit gray PNG keeps 16-bit precision" {
            let d = tmpDir ()
            let p = Path.Combine(d, "d.png")
            let v = Array.init (7 * 5) (fun i -> uint16 (i * 1871 + 3))
            PngWriter.WriteGray16(p, v, 7, 5)
            let img = ImageDecoding.Decode(p, 1)
            Expect.equal img.BitDepth 16 "bit depth"
            Expect.equal (img.Pixels |> Array.map (fun x -> uint16 (round (float x * 65535.0)))) v "samples"
        }
        test "JPEG decodes to the right size and roughly the right colours" {
            let d = tmpDir ()
            let p = Path.Combine(d, "a.jpg")
            writeJpeg p 16 16
            let img = ImageDecoding.Decode(p, 3)
            Expect.equal (img.Width, img.Height) (16, 16) "size"
            Expect.equal img.Pixels.Length (16 * 16 * 3) "channels"
        }
        test "corrupt, truncated and garbage files give InvalidDataException naming the file" {
            let d = tmpDir ()
            let good = PngWriter.EncodeRgb(rgbBytes 8 8, 8, 8)
            let cases =
                [ "garbage.png", Array.init 100 (fun i -> byte (i * 31))
                  "empty.png", [||]
                  "truncated.png", good.[.. good.Length / 2]
                  "crc.png", (let b = Array.copy good in b.[20] <- b.[20] ^^^ 0xFFuy; b)
                  "huge.png", (let b = Array.copy good in b.[16] <- 0x7Fuy; b) ]
            let jpgPath = Path.Combine(d, "ok.jpg")
            writeJpeg jpgPath 16 16
            let jpg = File.ReadAllBytes jpgPath
            let jcases =
                [ "truncated.jpg", jpg.[.. jpg.Length - 40]
                  "badlen.jpg", (let b = Array.copy jpg in b.[4] <- 0xFFuy; b.[5] <- 0xFFuy; b)
                  "sofonly.jpg", [| 0xFFuy; 0xD8uy; 0xFFuy; 0xC0uy; 0x00uy; 0x0Buy; 8uy; 0uy; 16uy; 0uy; 16uy; 1uy; 1uy; 0x11uy; 0uy; 0xFFuy; 0xD9uy |] ]
            for (name, bytes) in cases @ jcases do
                let p = Path.Combine(d, name)
                File.WriteAllBytes(p, bytes)
                expectInvalid name (fun () -> ImageDecoding.Decode(p, 3) |> ignore)
        }
    ]

let private writeFixture (d: string) =
    for m in [ "rgb"; "depth"; "ir" ] do Directory.CreateDirectory(Path.Combine(d, m)) |> ignore
    for id in [ "a"; "b"; "c" ] do
        PngWriter.WriteRgb(Path.Combine(d, "rgb", id + ".png"), rgbBytes 10 10, 10, 10)
        PngWriter.WriteGray16(Path.Combine(d, "depth", id + ".png"), Array.create 100 65535us, 10, 10)
        PngWriter.WriteGray(Path.Combine(d, "ir", id + ".png"), grayBytes 10 10, 10, 10)

let manifests =
    testList "manifests" [
        test "list file: CRLF, comments, blank lines, live/spoof, attack from a pattern" {
            let d = tmpDir ()
            writeFixture d
            let p = Path.Combine(d, "train.txt")
            File.WriteAllText(p, "# MMDG list\r\nrgb/a.png depth/a.png ir/a.png 1\r\n\r\n  rgb/b.png depth/b.png ir/b.png 0 \r\nrgb/c.png - ir/c.png 0\r\n")
            let s = Manifest.Load(p, ManifestOptions(Domain = "W", AttackPattern = "(?<attack>[bc])\\.png", AttackMap = readOnlyDict [ "b", "Flat Print Attack" ]))
            Expect.equal s.Count 3 "three samples"
            Expect.isTrue s.[0].IsLive "label 1 is live"
            Expect.equal s.[1].Attack "Flat Print Attack" "attack from the pattern + map"
            Expect.equal (List.ofSeq s.[1].Label) (Taxonomy.labelOf Gen.taxonomy "Flat Print Attack") "full label"
            Expect.equal (List.ofSeq s.[2].Label) [ "Spoof Face" ] "unknown attack -> Spoof Face"
            Expect.isNull s.[2].Depth "'-' is a missing modality"
            Expect.equal s.[0].Domain "W" "domain from options"
            Expect.stringContains s.[1].Source "train.txt:4" "source names file:line"
        }
        test "list file: bad label is an error naming file:line; SkipBad reports it" {
            let d = tmpDir ()
            writeFixture d
            let p = Path.Combine(d, "bad.txt")
            File.WriteAllText(p, "rgb/a.png depth/a.png ir/a.png 1\nrgb/b.png depth/b.png ir/b.png 7\nrgb/c.png depth/c.png\n")
            try Manifest.Load(p, ManifestOptions()) |> ignore with :? InvalidDataException as e -> Expect.stringContains e.Message "bad.txt:2" "file:line"
            let r = Manifest.LoadWithReport(p, ManifestOptions(SkipBad = true))
            Expect.equal r.Samples.Count 1 "one good line"
            Expect.equal (r.Skipped |> Seq.map (fun x -> x.Line) |> List.ofSeq) [ 2; 3 ] "skipped lines"
        }
        test "JSONL: null/absent modalities, label forms, cues, errors" {
            let d = tmpDir ()
            writeFixture d
            let p = Path.Combine(d, "m.jsonl")
            File.WriteAllLines(p, [|
                """{"id":"1","rgb":"rgb/a.png","depth":null,"ir":"ir/a.png","label":"live","domain":"C","cues":["ir:pupil"]}"""
                """{"id":"2","rgb":"rgb/b.png","label":"Screen Replay Attack","domain":"C"}"""
                """{"id":"3","rgb":"rgb/c.png","depth":"depth/c.png","label":"spoof","attack":"replay"}"""
                """{"id":"4","rgb":"rgb/c.png","label":["Spoof Face","Partial Attacks","Glasses Attack"]}""" |])
            let s = Manifest.Load(p, ManifestOptions(CheckFiles = true))
            Expect.isNull s.[0].Depth "null depth"
            Expect.isNull s.[1].Ir "absent ir"
            Expect.equal (List.ofSeq s.[0].Cues) [ "ir:pupil" ] "cues"
            Expect.equal s.[1].Attack "Screen Replay Attack" "leaf label"
            Expect.equal s.[2].Attack "Screen Replay Attack" "spoof + attack"
            Expect.equal s.[3].Attack "Glasses Attack" "path label"
            let f = ImageLoader.Load(s.[0], 8)
            Expect.isNull f.Depth "missing modality -> null tensor"
            Expect.equal f.Rgb.Length (3 * 64) "RGB 3xSxS"
            let q = Path.Combine(d, "bad.jsonl")
            File.WriteAllLines(q, [| """{"id":"1","rgb":"rgb/a.png","label":"live"}"""; """{"id":"2","rgb":"rgb/a.png","label":"Banana Attack"}""" |])
            try Manifest.Load(q, ManifestOptions()) |> ignore; failtest "unknown label accepted"
            with :? InvalidDataException as e -> Expect.stringContains e.Message "bad.jsonl:2" "file:line"
            File.WriteAllLines(q, [| """{"id":"1","rgb":"rgb/zz.png","label":"live"}""" |])
            Expect.throwsT<InvalidDataException> (fun () -> Manifest.Load(q, ManifestOptions(CheckFiles = true)) |> ignore) "missing file"
            File.WriteAllBytes(Path.Combine(d, "rgb", "bad.png"), [| 1uy; 2uy; 3uy |])
            File.WriteAllLines(q, [| """{"id":"1","rgb":"rgb/bad.png","label":"live"}""" |])
            let r = Manifest.Load(q, ManifestOptions())
            try ImageLoader.Load(r.[0], 8) |> ignore; failtest "corrupt PNG loaded"
            with :? InvalidDataException as e -> Expect.stringContains e.Message "bad.png" "names the file"
        }
    ]

/// A sample of the given files (null = absent) with a source like a manifest's.
let private sample (rgb: string) (depth: string) (ir: string) =
    SampleRecord("x", rgb, depth, ir, [| "Real Face" |], "", "", null, "m.jsonl:7")

/// The message of the InvalidDataException that f throws (fails the test otherwise).
let private invalidMessage (what: string) (f: unit -> unit) =
    try f (); failtestf "%s: no error" what
    with :? InvalidDataException as e -> e.Message

let private writePng (path: string) (px: byte[]) w h comps =
    use fs = File.Create path
    StbImageWriteSharp.ImageWriter().WritePng(px, w, h, comps, fs)

let private writeJpegOf (path: string) (px: byte[]) w h comps =
    use fs = File.Create path
    StbImageWriteSharp.ImageWriter().WriteJpg(px, w, h, comps, fs, 90)

/// A smooth gray picture (a face-like blob) as bytes.
let private grayPicture w h =
    Array.init (w * h) (fun i -> let x, y = float (i % w) / float w - 0.5, float (i / w) / float h - 0.5 in byte (40.0 + 180.0 * exp (-8.0 * (x * x + y * y))))

let slots =
    testList "slot rules" [
        test "RGB slot: a 1- or 2-channel file is an error naming file:line and the image, with a hint" {
            let d = tmpDir ()
            let gray8, gray16, grayAlpha = Path.Combine(d, "g8.png"), Path.Combine(d, "g16.png"), Path.Combine(d, "ga.png")
            PngWriter.WriteGray(gray8, grayBytes 8 8, 8, 8)
            PngWriter.WriteGray16(gray16, Array.init 64 (fun i -> uint16 (i * 1000)), 8, 8)
            writePng grayAlpha (Array.init 128 (fun i -> byte i)) 8 8 StbImageWriteSharp.ColorComponents.GreyAlpha
            for (p, what) in [ gray8, "1-channel"; gray16, "1-channel"; grayAlpha, "2-channel" ] do
                let m = invalidMessage p (fun () -> ImageLoader.Load(sample p null null, 8) |> ignore)
                Expect.stringContains m "m.jsonl:7" "names the manifest line"
                Expect.stringContains m p "names the image"
                Expect.stringContains m what "says what the file holds"
                Expect.stringContains m "columns swapped" "hints at the likely cause"
            // the same files are fine in the depth and IR slots
            let f = ImageLoader.Load(sample null gray16 gray8, 8)
            Expect.equal (f.Depth.Length, f.Ir.Length) (64, 64) "gray files in the gray slots"
            // a manifest check finds it from the header alone, as file:line, and SkipBad skips the line
            let rgb = Path.Combine(d, "c.png")
            PngWriter.WriteRgb(rgb, rgbBytes 8 8, 8, 8)
            let man = Path.Combine(d, "m.txt")
            File.WriteAllText(man, sprintf "%s %s %s 1\n%s %s %s 1\n" rgb gray16 gray8 gray16 rgb gray8)
            let m = invalidMessage "manifest" (fun () -> Manifest.Load(man, ManifestOptions(CheckFiles = true)) |> ignore)
            Expect.stringContains m (man + ":2") "file:line of the swapped columns"
            let r = Manifest.LoadWithReport(man, ManifestOptions(CheckFiles = true, SkipBad = true))
            Expect.equal (r.Samples.Count, r.Skipped.Count) (1, 1) "one good line, one skipped"
            Expect.equal (Manifest.Load(man, ManifestOptions()).Count) 2 "without CheckFiles only the lines are read"
        }

        test "depth/IR slots: gray files and colour files with equal channels (PNG, JPEG) load; a colour picture is an error" {
            let d = tmpDir ()
            let w, h = 24, 20
            let g = grayPicture w h
            let grayPng, rgbPng, rgbJpg, noisyJpg = Path.Combine(d, "g.png"), Path.Combine(d, "g3.png"), Path.Combine(d, "g3.jpg"), Path.Combine(d, "noisy.jpg")
            PngWriter.WriteGray(grayPng, g, w, h)
            let rgb3 = g |> Array.collect (fun v -> [| v; v; v |])
            PngWriter.WriteRgb(rgbPng, rgb3, w, h)
            writeJpegOf rgbJpg rgb3 w h StbImageWriteSharp.ColorComponents.RedGreenBlue
            let rng = Random 5
            writeJpegOf noisyJpg (rgb3 |> Array.map (fun v -> byte (Math.Clamp(int v + rng.Next(-3, 4), 0, 255)))) w h StbImageWriteSharp.ColorComponents.RedGreenBlue
            Expect.equal (ImageDecoding.CheckFile(rgbJpg).Channels) 3 "the JPEG is a 3-channel file"
            let reference = ImageLoader.Load(sample null grayPng grayPng, 16)
            let same = ImageLoader.Load(sample null rgbPng rgbPng, 16)
            Expect.equal same.Depth reference.Depth "equal-channel RGB PNG = the gray PNG, bit for bit"
            Expect.equal same.Ir reference.Ir "also in the IR slot"
            for p in [ rgbJpg; noisyJpg ] do
                let f = ImageLoader.Load(sample null p p, 16)
                let maxDiff = Array.map2 (fun (a: float32) b -> abs (a - b)) f.Depth reference.Depth |> Array.max
                Expect.isLessThan maxDiff 0.06f (sprintf "%s: close to the gray picture (JPEG error only)" p)
            // real colour pictures: a synthetic face of every domain, and the test pattern
            let world = Path.Combine(d, "world")
            let synth = SyntheticWorld.Generate(SynthOptions(Out = world, PerDomain = 2, Size = 32, Seed = 3, Threads = 1))
            let faces = Directory.GetFiles(Path.Combine(world, "rgb"), "*.png")
            Expect.equal faces.Length 8 "two faces per domain"
            let pattern = Path.Combine(d, "pattern.jpg")
            writeJpegOf pattern (rgbBytes 16 16) 16 16 StbImageWriteSharp.ColorComponents.RedGreenBlue
            for p in Array.append faces [| pattern |] do
                for slot, s in [ "depth", sample null p null; "ir", sample null null p ] do
                    let m = invalidMessage p (fun () -> ImageLoader.Load(s, 8) |> ignore)
                    Expect.stringContains m "m.jsonl:7" "names the manifest line"
                    Expect.stringContains m p "names the image"
                    Expect.stringContains m (sprintf "the %s slot holds a colour image" slot) "says why"
            // the synthetic world's own files satisfy every rule, also under the manifest check
            let all = Manifest.Load(synth.ManifestPath, ManifestOptions(CheckFiles = true))
            for s in all do ImageLoader.Load(s, 16) |> ignore
        }

        test "modalities: other resolutions of the same aspect are resized; other aspect ratios are an error naming both sizes" {
            let d = tmpDir ()
            let rgb (name: string) w h = let p = Path.Combine(d, name) in PngWriter.WriteRgb(p, rgbBytes w h, w, h); p
            let gray (name: string) w h = let p = Path.Combine(d, name) in PngWriter.WriteGray(p, grayBytes w h, w, h); p
            let f = ImageLoader.Load(sample (rgb "r.png" 40 32) (gray "d.png" 20 16) (gray "i.png" 80 64), 8)
            Expect.equal (f.Rgb.Length, f.Depth.Length, f.Ir.Length) (192, 64, 64) "40x32, 20x16 and 80x64 all resized to 8x8"
            ImageLoader.Load(sample (rgb "r33.png" 33 32) (gray "d32.png" 32 32) null, 8) |> ignore // 3% off: a crop's rounding
            let wide, square = rgb "wide.png" 32 18, gray "sq.png" 24 24
            let m = invalidMessage "aspect" (fun () -> ImageLoader.Load(sample wide null square, 8) |> ignore)
            for part in [ "m.jsonl:7"; wide; "32x18"; square; "24x24"; "misregistered" ] do Expect.stringContains m part "named in the error"
            let man = Path.Combine(d, "m.jsonl")
            File.WriteAllLines(man, [| sprintf "{\"id\":\"a\",\"rgb\":\"%s\",\"depth\":\"%s\",\"label\":\"live\"}" wide square |])
            let m2 = invalidMessage "manifest" (fun () -> Manifest.Load(man, ManifestOptions(CheckFiles = true)) |> ignore)
            Expect.stringContains m2 (man + ":1") "the manifest check finds it from the headers, as file:line"
        }

        test "8- and 16-bit files give the same tensor in the depth and IR slots (both directions)" {
            let d = tmpDir ()
            let w, h = 12, 10
            let v8 = grayPicture w h
            let p8, p16 = Path.Combine(d, "d8.png"), Path.Combine(d, "d16.png")
            PngWriter.WriteGray(p8, v8, w, h)
            PngWriter.WriteGray16(p16, v8 |> Array.map (fun b -> uint16 b * 257us), w, h) // 255 * 257 = 65535
            Expect.equal (ImageDecoding.CheckFile(p16).BitDepth, ImageDecoding.CheckFile(p8).BitDepth) (16, 8) "bit depths"
            let a = ImageLoader.Load(sample null p8 p16, 8) // 8-bit depth (16 usual), 16-bit IR (8 usual)
            let b = ImageLoader.Load(sample null p16 p8, 8)
            Expect.equal a.Depth b.Ir "8-bit depth = 8-bit IR"
            let maxDiff = Array.map2 (fun (x: float32) y -> abs (x - y)) a.Depth b.Depth |> Array.max
            Expect.isLessThan maxDiff 1e-6f "8-bit value v and 16-bit value 257 v load to the same float"
            Expect.floatClose Accuracy.high (float (Array.max a.Depth)) (float (Array.max b.Depth)) "same range"
        }

        test "extreme inputs give finite tensors in [0, 1]; non-finite tensors are refused" {
            let d = tmpDir ()
            for w, h in [ 1, 1; 3, 2; 100, 90 ] do
                for value16 in [ 0us; 65535us ] do
                    let p16, p8, prgb = Path.Combine(d, sprintf "d%d-%d.png" w value16), Path.Combine(d, sprintf "i%d-%d.png" w value16), Path.Combine(d, sprintf "r%d-%d.png" w value16)
                    PngWriter.WriteGray16(p16, Array.create (w * h) value16, w, h)
                    PngWriter.WriteGray(p8, Array.create (w * h) (if value16 = 0us then 0uy else 255uy), w, h)
                    PngWriter.WriteRgb(prgb, Array.create (3 * w * h) (if value16 = 0us then 0uy else 255uy), w, h)
                    for size in [ 1; 8; 64 ] do
                        let f = ImageLoader.Load(sample prgb p16 p8, size)
                        let expected = if value16 = 0us then 0.0f else 1.0f
                        for name, t in [ "rgb", f.Rgb; "depth", f.Depth; "ir", f.Ir ] do
                            let ok x = Single.IsFinite x && x >= 0.0f && x <= 1.0f && abs (x - expected) < 1e-6f
                            Expect.isTrue (t |> Array.forall ok) (sprintf "%s %dx%d -> %d: every value finite, in [0, 1], about %g" name w h size expected)
            for bad in [ nan; infinity; -infinity ] do
                let v = Array.create 16 0.5f
                v.[7] <- float32 bad
                Expect.throwsT<ArgumentException> (fun () -> FaceTensors(4, null, v, null) |> ignore) (sprintf "%g refused" bad)
        }
    ]

let private world = lazy (SyntheticWorld.RenderAll(SynthOptions(PerDomain = 40, Seed = 11, Threads = 2)))

let synthetic =
    testList "synthetic world" [
        test "same seed same bytes, different seed differs" {
            let d1, d2, d3 = tmpDir (), tmpDir (), tmpDir ()
            let g dir seed = SyntheticWorld.Generate(SynthOptions(Out = dir, PerDomain = 3, Seed = seed, Threads = 2)) |> ignore
            g d1 5; g d2 5; g d3 6
            let bytes dir = [ for f in Directory.GetFiles(dir, "*.png", SearchOption.AllDirectories) |> Array.sort -> File.ReadAllBytes f ]
            Expect.equal (bytes d1) (bytes d2) "same seed"
            Expect.notEqual (bytes d1) (bytes d3) "different seed"
            let m = Manifest.Load(Path.Combine(d1, "manifest.jsonl"), ManifestOptions(CheckFiles = true))
            Expect.equal m.Count 12 "4 domains x 3"
        }
        test "cues are within the leaf's compatible set and the vocabulary" {
            for r in world.Value do
                let compat = Taxonomy.compatible Gen.taxonomy r.Leaf
                for c in r.Cues do
                    Expect.isTrue (compat.Contains (Cue.tryParse c).Value) (sprintf "%s: %s not compatible with %s" r.Id c r.Leaf)
        }
        test "domains differ in statistics and attack mix" {
            let mean (xs: float32 seq) = xs |> Seq.averageBy float
            let byDom = world.Value |> Array.groupBy (fun r -> r.Domain) |> dict
            let redBlue d = byDom.[d] |> Array.map (fun r -> mean r.Rgb.[0 .. r.Size * r.Size - 1] / mean r.Rgb.[2 * r.Size * r.Size ..]) |> Array.average
            Expect.isGreaterThan (redBlue "C") (redBlue "P" + 0.1) "C is warmer than P"
            let leaves d = byDom.[d] |> Array.map (fun r -> r.Leaf) |> Set.ofArray
            Expect.isFalse ((leaves "C").Contains SyntheticWorld.Silicone) "C lacks silicone masks"
            Expect.isTrue ((leaves "W").Contains SyntheticWorld.Silicone) "W has them"
            let border d live = byDom.[d] |> Array.filter (fun r -> (r.Leaf = SyntheticWorld.Live) = live) |> Array.averageBy (fun r -> if r.Border then 1.0 else 0.0)
            Expect.isGreaterThan (border "C" false) (border "C" true) "border is spoof-correlated in C"
            Expect.isLessThan (border "S" false) (border "S" true) "and anti-correlated in S"
        }
        test "annotator agrees with the ground truth" {
            let rs = world.Value
            let recs = rs |> Array.map (fun r -> SampleRecord(r.Id, "rgb", (if isNull r.Depth then null else "d"), (if isNull r.Ir then null else "i"), r.Label, r.Leaf, r.Domain, r.Cues, r.Id))
            let pred = Collections.Generic.Dictionary<string, Collections.Generic.IReadOnlyList<string>>()
            for r in rs do pred.[r.Id] <- Annotator.Annotate(FaceTensors(r.Size, r.Rgb, r.Depth, r.Ir))
            let rep = AnnotationReports.Agreement(recs, pred)
            for c in rep.PerCue do
                if c.Support >= 5 then Expect.isGreaterThan c.F1 0.75 (sprintf "%s F1\n%s" c.Cue (rep.ToText()))
            Expect.isGreaterThan rep.MacroF1 0.9 (rep.ToText())
        }
    ]

let tests = testList "Data" [ decoding; manifests; slots; synthetic ]
