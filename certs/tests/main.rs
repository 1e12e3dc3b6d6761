//! Integration tests of kiban-certs, one binary: real TLS handshakes over 127.0.0.1
//! (`handshake`), CRL installation rules (`revocation`) and property tests of the
//! principal (`properties`). Fixtures (one operator PKI, one server certificate) are made
//! once per binary in `support`.

mod handshake;
mod properties;
mod revocation;
mod support;
