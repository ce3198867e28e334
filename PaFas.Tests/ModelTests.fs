module PaFas.Tests.ModelTests

open Expecto

let tests = testList "Model" []
