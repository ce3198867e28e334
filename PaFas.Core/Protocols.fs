namespace PaFas.Core

/// Placeholder until implemented.
module ProtocolsPlaceholder =
    let pending = ()
