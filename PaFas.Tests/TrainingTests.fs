module PaFas.Tests.TrainingTests

open Expecto

let tests = testList "Training" []
