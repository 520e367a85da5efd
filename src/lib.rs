//! nayose (名寄せ): cleans and deduplicates customer data, built first for
//! Japanese business data and usable for any schema.
//!
//! The library is organised as the data flows (see ARCHITECTURE.md):
//! [`import`] reads files into raw rows, [`rules`] says which normalizer applies
//! to which column, [`normalize`] turns raw values into canonical values, match
//! keys and issues, and [`clean`] ties them together for the `clean` command.
//! [`gen`] writes synthetic customer files with ground truth for measuring
//! deduplication; [`eval`] scores a clustering against known true entities;
//! [`report`] renders a dedupe run as one self-contained HTML page.

pub mod clean;
pub mod cluster;
pub mod dedupe;
pub mod eval;
pub mod gen;
pub mod import;
pub mod index;
pub mod master;
pub mod matching;
pub mod names;
pub mod normalize;
pub mod record;
pub mod report;
pub mod rules;
pub mod server;
pub mod service;
pub mod store;

pub use normalize::{Issue, Normalized, Part};
pub use record::FieldType;
