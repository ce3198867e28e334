namespace PaFas.Core

// Placeholder: filled in by issue 2 (core).
