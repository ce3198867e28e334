namespace PaFas.Core

/// Placeholder until implemented.
module CliPlaceholder =
    let pending = ()
