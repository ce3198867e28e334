module PaFas.Tests.DataTests

open Expecto

let tests = testList "Data" []
