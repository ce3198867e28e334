module PaFas.Tests.EvalTests

open Expecto

let tests = testList "Eval" []
