module PaFas.Tests.CliTests

open Expecto

let tests = testList "Cli" []
