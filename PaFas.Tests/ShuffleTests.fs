module PaFas.Tests.ShuffleTests

open Expecto

let tests = testList "Shuffle" []
