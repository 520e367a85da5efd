//! The one integration-test binary: each module is a feature area.

mod address_external;
mod cli;
mod common;
mod dedupe;
mod eval;
mod gen;
mod golden;
mod properties;
mod serve;
mod serve_faults;
mod ui_e2e;
