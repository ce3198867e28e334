module PaFas.Tests.PnrpsTests

open Expecto

let tests = testList "Pnrps" []
