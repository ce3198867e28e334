namespace PaFas.Core

/// Placeholder until implemented.
module PnrpsPlaceholder =
    let pending = ()
