namespace PaFas.Core

/// Placeholder until implemented.
module MetricsPlaceholder =
    let pending = ()
