//! kiban-actors: the participants around the platform, mocked so that scenarios, demos and
//! the conformance suite can drive the platform the way the field would. Each actor is a
//! real client of the platform over TLS 1.3 with a client certificate, and uses only its
//! public API.
//!
//! Cards and people:
//! - [`card`]: virtual My Number cards (マイナンバーカード): holder, My Number, the
//!   利用者証明用 key pair and certificate from the virtual J-LIS CA, card and certificate
//!   validity by the birthday rules, the 4-digit PIN with its lockout, loss and revocation.
//! - [`reader`]: card readers (PIN, face recognition with a seeded match rate, staff visual
//!   check) that sign the platform's nonce and produce its card assertion.
//! - [`jlis`]: the J-LIS mock — the card issuer and the HTTP service the platform asks
//!   whether a card certificate is valid now and which opaque card link it belongs to.
//! - [`counter`]: the municipality's counter (窓口) for the card operations only a
//!   municipality may do (PIN unlock, releasing a loss hold, certificate renewal).
//! - [`people`] and [`names`]: seeded, reproducible synthetic insured persons with Japanese
//!   names and their katakana readings, and their representatives' cards.
//! - [`calendar`]: ages and birthdays as the card rules count them.
//!
//! The actors:
//! - [`operator`]: 国保中央会 — municipalities' go-live, office registration, the simulated
//!   clock, and the certificate desk for terminals (issue, renew, revoke, CRLs).
//! - [`municipality`]: the 標準準拠 care-insurance system — [`migration`] states, uploads in
//!   idempotent batches, the [`certification`] workflow, consent at application and
//!   renewal, the inbox, the fallback registration without a card, representatives.
//! - [`office`]: care-management, care-service and facility offices and deemed offices —
//!   staff, terminals, card verification, reads, uploads, consent on the municipality's
//!   behalf, submissions and the care-plan CSV exchange ([`careplan`]).
//! - [`medical`]: physician opinions by the web and EHR routes.
//! - [`portal`]: the person (and their representative) through マイナポータル.
//!
//! Scenes: [`world`] (the platform, J-LIS and the operator on local sockets, with helpers
//! that open municipalities, offices and cards; used by [`demo`] and the engine's wire
//! mode).
//!
//! Shared: [`client`] (the mTLS HTTP/1.1 client, typed problem+json refusals, a retry helper
//! that retries only safe requests), [`outcome`] (typed refusal reasons, read outcomes, the
//! actors' error), [`wire`] (person references and exchange answers).
//!
//! Rules of the crate: time is always handed in (a `Timestamp`, a `Date` or a
//! `kiban_certs::Clock`), never read from the system; randomness that shapes the simulation
//! comes from an injected or seeded generator (key pairs, certificate serials and ECDSA
//! signatures use the operating system's generator through ring/rcgen, which only makes
//! their bytes differ between runs); a My Number never leaves the card, the J-LIS mock and
//! the municipality mock, and nothing here logs, sends or serialises one.
//!
//! Names come from a curated data file (`data/names.toml`), not from the `fake` crate: fake's
//! JA_JP locale has no readings and no sex, and its given names are those of today's babies,
//! while the care-plan CSV needs a フリガナ for people born 1925–1985 (see [`names`]).

pub mod calendar;
pub mod card;
pub mod careplan;
pub mod certification;
pub mod client;
pub mod counter;
pub mod demo;
pub mod jlis;
pub mod medical;
pub mod migration;
pub mod municipality;
pub mod names;
pub mod office;
pub mod operator;
pub mod outcome;
pub mod people;
pub mod portal;
pub mod reader;
pub mod wire;
pub mod world;
