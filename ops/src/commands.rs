//! One module per subcommand.

pub mod emit;
pub mod topics;
