module PaFas.Tests.Main

open System
open Expecto
open Expecto.Impl

/// Tests that run libtorch share process-wide state (thread count, the default generator): they run one at a
/// time so that seeded training runs are reproducible; everything else runs in parallel beside them.
let private libtorch t = testSequencedGroup "libtorch" t

let allTests =
    testList
        "PaFas"
        [ TaxonomyTests.tests
          ReasoningTreeTests.tests
          PnrpsTests.tests
          ShuffleTests.tests
          RewardsTests.tests
          JudgeTests.tests
          ChainCodecTests.tests
          LabelsTests.tests
          GrpoTests.tests
          MetricsTests.tests
          ProtocolsTests.tests
          CliTests.tests
          OptionsTests.tests
          libtorch HostTorchTests.tests
          DataTests.tests
          SplitTests.tests
          AnnotatorTests.tests
          libtorch ModelTests.tests
          libtorch TrainingTests.tests
          libtorch EvalTests.tests
          libtorch InteropTests.tests
          TrainerRewardsTests.tests
          libtorch BenchTests.tests
          GuardTests.tests
          LimitsTests.tests
          libtorch LimitsTests.libtorchTests
          libtorch DatasetLayoutTests.tests
          libtorch PretrainTests.tests
          libtorch PipelineTests.tests ]

/// Writes a line straight to the process's stdout stream, bypassing Expecto's console wrapper
/// (which adds escape codes), so CI reads a plain `N passed, N failed`.
let private writeRaw (line: string) =
    Console.Out.Flush()
    use out = Console.OpenStandardOutput()
    let bytes = Text.Encoding.UTF8.GetBytes("\n" + line + "\n")
    out.Write(bytes, 0, bytes.Length)
    out.Flush()

[<EntryPoint>]
let main argv =
    let mutable closing = None
    let basePrinter = TestPrinters.defaultPrinter
    let printer =
        { basePrinter with
            summary =
                fun cfg (summary: TestRunSummary) ->
                    async {
                        do! basePrinter.summary cfg summary
                        let failed = summary.failed.Length + summary.errored.Length
                        closing <- Some(sprintf "%d passed, %d failed, %d skipped" summary.passed.Length failed summary.ignored.Length)
                    } }
    // No progress spinner when stdout is a file or a pipe: its cursor codes (ESC[1000D, ESC[?25h) ended up in logs.
    let spinner = if Console.IsOutputRedirected then [ No_Spinner ] else []
    let code = runTestsWithCLIArgs ([ Printer printer; Colours 0 ] @ spinner) argv allTests
    match closing with
    | Some line -> writeRaw line
    | None -> writeRaw (sprintf "0 passed, %d failed" (if code = 0 then 0 else 1))
    code
