namespace PaFas.Core

/// Placeholder until implemented.
module ShufflePlaceholder =
    let pending = ()
