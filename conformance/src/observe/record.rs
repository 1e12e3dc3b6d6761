//! The recording layer of observe mode: what is kept of every TLS handshake and every
//! request (an [`Observed`] exchange), the [`Recorder`] that numbers and stores them, decides
//! the script's injected failures and tells when the script is complete, and the My Number
//! redaction every recorded byte goes through.
//!
//! **Privacy.** A My Number is never recorded: a run of exactly 12 ASCII digits whose check
//! digit is valid (`kiban_core::id::MyNumber`) is replaced by [`REDACTED`] in the recorded path,
//! query and `Idempotency-Key`, the body digest is taken over the redacted body (a digest of a
//! 12-digit value could be reversed by trying them all), and only *where* one was found is
//! kept. Bodies themselves are not kept; bearer tokens are kept only as "present".

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use kiban_certs::{Clock, ManualClock};
use kiban_core::id::MyNumber;
use kiban_core::time::Timestamp;
use kiban_core::vocab::Role;
use serde::Serialize;

use super::script::{Injection, Script};

/// What a redacted My Number is replaced by.
pub const REDACTED: &str = "[my-number-redacted]";

/// Whose traffic an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    /// The system under observation (every certificate observe mode did not keep for itself).
    Vendor,
    /// The harness's own peers (the reference's slot certificates): recorded, never checked.
    Harness,
}

/// The principal a connection's certificate names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    /// The principal URI.
    pub principal: String,
    /// Its role.
    pub role: Role,
    /// Its organisation as the platform writes it (`-` for none).
    pub organisation: String,
    /// Its terminal.
    pub terminal: String,
}

/// Why a TLS handshake did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// The client offered no TLS 1.3 (e.g. TLS 1.2 only).
    NoTls13,
    /// The client presented no certificate.
    NoCertificate,
    /// The client's certificate was refused (unknown issuer, expired, revoked, wrong usage).
    CertificateRefused,
    /// The client refused the platform's certificate (an alert: its CA file is wrong).
    ClientAlert,
    /// Another TLS failure.
    Other,
    /// The connection closed before a handshake (a port probe): not the client's fault.
    Aborted,
}

/// One TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handshake {
    /// 1-based, in the order handshakes ended.
    pub number: u64,
    /// The platform clock then (RFC 3339, JST).
    pub at: String,
    /// Monotonic time since observation started (exchange log only, never a report).
    #[serde(skip)]
    pub elapsed: Duration,
    /// Whose, when the certificate was read.
    pub party: Party,
    /// The negotiated version (`TLSv1_3`) when accepted.
    pub tls: Option<String>,
    /// The principal of an accepted connection.
    pub peer: Option<Peer>,
    /// Why an accepted certificate names no valid principal.
    pub principal_problem: Option<String>,
    /// Why the handshake failed, if it did.
    pub refused: Option<Refusal>,
    /// The TLS library's reason for a failure.
    pub detail: Option<String>,
}

/// One request and the answer it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// 1-based, in the order requests arrived.
    pub seq: u64,
    /// The platform clock when it arrived (RFC 3339, JST).
    pub at: String,
    /// Monotonic time of arrival since observation started (log only).
    #[serde(skip)]
    pub arrived: Duration,
    /// Monotonic time of the answer since observation started (log only).
    #[serde(skip)]
    pub answered: Duration,
    /// The connection's handshake number.
    pub connection: u64,
    /// Whose.
    pub party: Party,
    /// The certificate's principal (none when it names no valid one).
    pub peer: Option<Peer>,
    /// The negotiated TLS version.
    pub tls: String,
    /// Method.
    pub method: String,
    /// Path and query, My Numbers redacted.
    pub path: String,
    /// The route template it matched (by path and method).
    pub route: Option<String>,
    /// The template its path matches whatever the method (for a 405).
    pub template: Option<String>,
    /// The `Idempotency-Key`, redacted.
    pub idempotency_key: Option<String>,
    /// The `Content-Type`.
    pub content_type: Option<String>,
    /// Whether a bearer token was sent (never the token).
    pub bearer: bool,
    /// Body length in bytes.
    pub body_bytes: usize,
    /// SHA-256 (hex) of the body after redaction.
    pub body_sha256: String,
    /// Where My-Number-shaped values were found (`path`, `header <name>`, `body`).
    pub my_numbers: Vec<String>,
    /// The answer's status (0: no answer, the request body could not be read).
    pub status: u16,
    /// The problem document's code.
    pub code: Option<String>,
    /// The answer's `Retry-After` in seconds.
    pub retry_after: Option<u64>,
    /// Whether observe mode answered in the platform's place (a script `[[fail]]`).
    pub injected: bool,
    /// Message or file ids an inbox answer delivered.
    pub delivered: Vec<u64>,
}

impl Observed {
    /// The route template, or the path when it matched none.
    pub fn route_or_path(&self) -> &str {
        self.route.as_deref().unwrap_or(&self.path)
    }

    /// `METHOD route`.
    pub fn operation(&self) -> String {
        format!("{} {}", self.method, self.route_or_path())
    }

    /// Whether the answer says the request may succeed later (5xx, 429, or none).
    pub fn failed_retryably(&self) -> bool {
        self.status == 0 || self.status == 429 || self.status >= 500
    }

    /// The organisation (or `?`).
    pub fn organisation(&self) -> &str {
        self.peer.as_ref().map_or("?", |p| p.organisation.as_str())
    }

    /// A deterministic description for reports: sequence number, platform time, principal,
    /// request, answer. No port, serial, token, body or wall-clock value.
    pub fn describe(&self) -> String {
        let who = self
            .peer
            .as_ref()
            .map_or("(no valid principal)".to_owned(), |p| p.principal.clone());
        let mut headers = Vec::new();
        if let Some(key) = &self.idempotency_key {
            headers.push(format!("Idempotency-Key: {key}"));
        }
        if let Some(ct) = &self.content_type {
            headers.push(format!("Content-Type: {ct}"));
        }
        if self.bearer {
            headers.push("Authorization: Bearer (present)".to_owned());
        }
        let answer = match (&self.code, self.injected) {
            (Some(code), false) => format!("{} {code}", self.status),
            (Some(code), true) => format!("{} {code} (injected by the script)", self.status),
            (None, _) => self.status.to_string(),
        };
        let retry_after = self
            .retry_after
            .map_or(String::new(), |s| format!(", Retry-After: {s}"));
        format!(
            "exchange #{} at {} from {who} over {}\n> {} {} (route {})\n> {}body {} B sha256 {}\n< {answer}{retry_after}",
            self.seq,
            self.at,
            self.tls,
            self.method,
            self.path,
            self.route_or_path(),
            if headers.is_empty() {
                String::new()
            } else {
                format!("{}; ", headers.join("; "))
            },
            self.body_bytes,
            &self.body_sha256[..16.min(self.body_sha256.len())],
        )
    }
}

impl Handshake {
    /// A deterministic description for reports.
    pub fn describe(&self) -> String {
        let mut text = format!("handshake #{} at {}", self.number, self.at);
        match (&self.refused, &self.peer) {
            (Some(refused), _) => {
                text.push_str(&format!(
                    ": refused ({}): {}",
                    serde_json::to_value(refused)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    self.detail.as_deref().unwrap_or("")
                ));
            }
            (None, Some(peer)) => text.push_str(&format!(
                ": {} as {}",
                self.tls.as_deref().unwrap_or("?"),
                peer.principal
            )),
            (None, None) => text.push_str(&format!(
                ": {}, certificate without a valid principal: {}",
                self.tls.as_deref().unwrap_or("?"),
                self.principal_problem.as_deref().unwrap_or("")
            )),
        }
        text
    }
}

/// Replaces every My-Number-shaped run (exactly 12 ASCII digits, valid check digit) in
/// `bytes` by [`REDACTED`]; returns the bytes and whether anything was replaced.
pub fn redact(bytes: &[u8]) -> (std::borrow::Cow<'_, [u8]>, bool) {
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 12 {
            let run = std::str::from_utf8(&bytes[start..i]).unwrap_or_default();
            if MyNumber::parse(run).is_ok() {
                let buf = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
                buf.extend_from_slice(&bytes[copied..start]);
                buf.extend_from_slice(REDACTED.as_bytes());
                copied = i;
            }
        }
    }
    match out {
        None => (std::borrow::Cow::Borrowed(bytes), false),
        Some(mut buf) => {
            buf.extend_from_slice(&bytes[copied..]);
            (std::borrow::Cow::Owned(buf), true)
        }
    }
}

/// [`redact`] for text.
pub fn redact_text(text: &str) -> (String, bool) {
    let (bytes, found) = redact(text.as_bytes());
    (String::from_utf8_lossy(&bytes).into_owned(), found)
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    next_handshake: u64,
    exchanges: Vec<Observed>,
    handshakes: Vec<Handshake>,
    fail_counts: Vec<u32>,
}

/// Numbers, stores and judges progress; shared by every connection of the observed platform.
pub struct Recorder {
    started: Instant,
    armed: AtomicBool,
    clock: OnceLock<Arc<ManualClock>>,
    harness: OnceLock<BTreeSet<String>>,
    inner: Mutex<Inner>,
    script: Option<Script>,
    complete: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("armed", &self.armed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder judging `script` (if any); records nothing until [`Recorder::arm`].
    pub(crate) fn new(script: Option<Script>) -> Recorder {
        let fails = script.as_ref().map_or(0, |s| s.fail.len());
        Recorder {
            started: Instant::now(),
            armed: AtomicBool::new(false),
            clock: OnceLock::new(),
            harness: OnceLock::new(),
            inner: Mutex::new(Inner {
                fail_counts: vec![0; fails],
                ..Inner::default()
            }),
            script,
            complete: tokio::sync::watch::channel(false).0,
        }
    }

    pub(crate) fn set_clock(&self, clock: Arc<ManualClock>) {
        let _ = self.clock.set(clock);
    }

    pub(crate) fn set_harness(&self, principals: BTreeSet<String>) {
        let _ = self.harness.set(principals);
    }

    /// Starts recording (after the harness set the world up).
    pub(crate) fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_armed(&self) -> bool {
        self.armed.load(Ordering::SeqCst)
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock
            .get()
            .map_or(Timestamp::from_unix_seconds(0), |c| c.now())
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn party(&self, peer: Option<&Peer>) -> Party {
        match (peer, self.harness.get()) {
            (Some(peer), Some(harness)) if harness.contains(&peer.principal) => Party::Harness,
            _ => Party::Vendor,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a handshake (numbered here); returns its number (0 when not armed).
    pub(crate) fn handshake(&self, mut handshake: Handshake) -> u64 {
        if !self.is_armed() {
            return 0;
        }
        let mut inner = self.lock();
        inner.next_handshake += 1;
        handshake.number = inner.next_handshake;
        let number = handshake.number;
        inner.handshakes.push(handshake);
        number
    }

    /// The next sequence number, when armed.
    pub(crate) fn begin(&self) -> Option<u64> {
        if !self.is_armed() {
            return None;
        }
        let mut inner = self.lock();
        inner.next_seq += 1;
        Some(inner.next_seq)
    }

    /// The failure the script injects for this vendor request, if any (counts every match).
    pub(crate) fn injection(
        &self,
        party: Party,
        method: &str,
        route: Option<&str>,
    ) -> Option<Injection> {
        let (Some(script), Party::Vendor, Some(route)) = (self.script.as_ref(), party, route)
        else {
            return None;
        };
        let mut inner = self.lock();
        let mut chosen = None;
        for (i, fail) in script.fail.iter().enumerate() {
            if fail.method == method && fail.route == route {
                inner.fail_counts[i] += 1;
                if inner.fail_counts[i] == fail.nth && chosen.is_none() {
                    chosen = Some(fail.injection());
                }
            }
        }
        chosen
    }

    /// Records an exchange and updates the script's progress.
    pub(crate) fn record(&self, exchange: Observed) {
        let complete = {
            let mut inner = self.lock();
            inner.exchanges.push(exchange);
            self.script.as_ref().is_some_and(|script| {
                let mut vendor: Vec<&Observed> = inner
                    .exchanges
                    .iter()
                    .filter(|e| e.party == Party::Vendor)
                    .collect();
                vendor.sort_by_key(|e| e.seq);
                script.is_complete(&vendor)
            })
        };
        if complete {
            self.complete.send_replace(true);
        }
    }

    /// Whether the script's expectations are all met.
    pub fn is_complete(&self) -> bool {
        *self.complete.borrow()
    }

    /// Resolves once the script is complete (never without a script).
    pub(crate) fn completed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.complete.subscribe();
        async move {
            let _ = rx.wait_for(|done| *done).await;
            if !*rx.borrow() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Everything recorded so far: exchanges by sequence number, handshakes by number.
    pub fn snapshot(&self) -> (Vec<Observed>, Vec<Handshake>) {
        let inner = self.lock();
        let mut exchanges = inner.exchanges.clone();
        exchanges.sort_by_key(|e| e.seq);
        (exchanges, inner.handshakes.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid My Number (check digit computed by kiban-core's rule).
    fn my_number() -> String {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(7);
        MyNumber::random(&mut rng).expose().to_owned()
    }

    #[test]
    fn my_numbers_are_redacted_and_other_digit_runs_kept() {
        let n = my_number();
        let text = format!("{{\"card_link\":\"{n}\",\"office\":\"1470100015\",\"x\":\"{n}9\"}}");
        let (out, found) = redact_text(&text);
        assert!(found);
        assert_eq!(
            out.matches(n.as_str()).count(),
            1,
            "only inside the 13-digit run: {out}"
        );
        assert!(
            out.starts_with(&format!("{{\"card_link\":\"{REDACTED}\"")),
            "{out}"
        );
        assert!(out.contains(REDACTED));
        assert!(out.contains("1470100015"), "a 10-digit office number stays");
        assert!(
            out.contains(&format!("{n}9")),
            "a 13-digit run is not a My Number"
        );
        let (same, found) = redact(b"no digits here 12");
        assert!(!found);
        assert!(matches!(same, std::borrow::Cow::Borrowed(_)));
    }
}
