//! kiban-actors: the participants around the platform, mocked so that scenarios, demos and
//! the conformance suite can drive the platform the way the field would.
//!
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
//!   names and their katakana readings.
//! - [`calendar`]: ages and birthdays as the card rules count them.
//! - [`client`]: the mTLS HTTP/1.1 client every actor uses to call the platform, with typed
//!   problem+json refusals and a retry helper that retries only safe requests.
//!
//! Rules of the crate: time is always handed in (a `Timestamp`, a `Date` or a
//! `kiban_certs::Clock`), never read from the system; randomness that shapes the simulation
//! comes from an injected generator (key pairs, certificate serials and ECDSA signatures use
//! the operating system's generator through ring/rcgen, which only makes their bytes differ
//! between runs); a My Number never leaves the card, the J-LIS mock and (later) the
//! municipality mock, and nothing here logs or serialises one.
//!
//! Names come from a curated data file (`data/names.toml`), not from the `fake` crate: fake's
//! JA_JP locale has no readings and no sex, and its given names are those of today's babies,
//! while the care-plan CSV needs a フリガナ for people born 1925–1985 (see [`names`]).
//!
//! The municipality, office, medical-institution and person (マイナポータル) actors are not
//! here yet; they will be built on [`client::PlatformClient`], [`counter::MunicipalityCounter`],
//! [`jlis::JlisMock::link_for`] and [`people::Person`].

pub mod calendar;
pub mod card;
pub mod client;
pub mod counter;
pub mod jlis;
pub mod names;
pub mod people;
pub mod reader;
