//! The one integration-test binary: each module is a feature area.

mod address_external;
mod cli;
mod golden;
mod properties;
