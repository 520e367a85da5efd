//! The one integration-test binary: each module is a feature area.

mod address_external;
mod api_contract;
mod cli;
mod common;
mod dedupe;
mod eval;
mod gen;
mod golden;
mod properties;
mod python;
mod serve;
mod serve_faults;
mod serve_limits;
mod ui_e2e;
