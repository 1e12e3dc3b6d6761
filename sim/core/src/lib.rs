//! kiban-core: the identifiers, the vocabulary, the rules and the access decision of
//! 介護情報基盤, written once and shared by the reference platform and the national model.
//!
//! The crate is pure: it does no I/O, reads no clock (every rule takes `now`), draws no
//! randomness it is not handed, and keeps no global state. See ARCHITECTURE.md.

pub mod decide;
pub mod geo;
pub mod id;
pub mod rules;
pub mod time;
pub mod view;
pub mod vocab;
