module PaFas.Tests.RewardsTests

open Expecto

let tests = testList "Rewards" []
