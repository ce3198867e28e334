module PaFas.Tests.GrpoTests

open Expecto

let tests = testList "Grpo" []
