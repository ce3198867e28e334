module PaFas.Tests.ProtocolsTests

open Expecto

let tests = testList "Protocols" []
