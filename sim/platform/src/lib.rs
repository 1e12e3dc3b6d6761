//! kiban-platform: the reference implementation of 介護情報基盤 — the HTTP API of the
//! 介護保険資格確認等WEBサービス over TLS 1.3 with client certificates, a durable store, the
//! audit log, and the care-plan CSV exchange. Every read goes through
//! `kiban_core::decide::decide` over an in-memory view rebuilt from the store at start.

pub mod api;
pub mod audit;
pub mod careplan;
pub mod error;
pub mod faults;
pub mod identity;
pub mod model;
pub mod openapi;
pub mod platform;
pub mod server;
pub mod store;
mod world;
