module PaFas.Tests.ReasoningTreeTests

open Expecto

let tests = testList "ReasoningTree" []
