namespace PaFas.Core

/// Placeholder until implemented.
module RewardsPlaceholder =
    let pending = ()
