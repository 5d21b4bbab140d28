//! End-to-end tests: real PostgreSQL, the tansu broker, Thoth's own Python library and the
//! `investigator` binary. Run them with `scripts/test.sh`.

mod emit;
mod harness;
mod thoth_interop;
mod topics;
