//! kiban-certs: the test PKI of kiban and the TLS 1.3 mutual-authentication configurations
//! built on it.
//!
//! - [`pki`]: the operator root CA, the client-issuing intermediate, the platform server
//!   certificate, the virtual J-LIS CA for My Number card certificates, CRLs.
//! - [`principal`]: the principal a client certificate carries (role, organisation number,
//!   terminal) as one SAN URI, and the one parser of a presented certificate.
//! - [`store`]: the PKI folder on disk (`kiban-data/pki/` by default): PEM files named by
//!   role and purpose, the inventory, issue / renew / revoke / CRL / list.
//! - [`tls`]: rustls server and client configurations: TLS 1.3 only, client certificate
//!   required, CRL checked and swappable without restart, per-request revocation check.
//! - [`defects`]: deliberately wrong client certificates for negative tests.
//!
//! Time is injected: functions take `now` or a [`clock::Clock`]; only
//! [`clock::SystemClock`] reads the operating system's clock. See `certs/README.md`.

pub mod clock;
pub mod defects;
pub mod pki;
pub mod principal;
pub mod serial;
pub mod store;
pub mod tls;

pub use clock::{Clock, ManualClock, SystemClock};
pub use pki::{
    CardSerial, ClientCredentials, IssuedCertificate, JlisCa, KeyAlgorithm, OperatorPki, PkiError,
    RevocationReason, Validity,
};
pub use principal::{ClientIdentity, Organisation, Principal, PrincipalError, TerminalId};
pub use serial::Serial;
