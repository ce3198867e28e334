namespace PaFas.Core

/// Placeholder until implemented.
module GrpoPlaceholder =
    let pending = ()
