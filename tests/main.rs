//! The one integration-test binary: each module is a feature area.

mod address_external;
mod cli;
mod gen;
mod eval;
mod golden;
mod properties;
