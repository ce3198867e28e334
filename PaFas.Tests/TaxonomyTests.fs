module PaFas.Tests.TaxonomyTests

open Expecto

let tests = testList "Taxonomy" []
