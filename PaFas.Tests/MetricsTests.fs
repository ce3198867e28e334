module PaFas.Tests.MetricsTests

open Expecto

let tests = testList "Metrics" []
