//! The J-LIS mock (地方公共団体情報システム機構): it issues virtual cards and their
//! user-authentication certificates, keeps the register of certificates, and answers the
//! platform's question "is this card certificate valid now, and whose is it?" over plain HTTP
//! (`GET /v1/certificates/{serial}`, as `kiban_platform::identity::JlisClient` asks it).
//!
//! The register maps each certificate serial to the holder's **card link** and the
//! certificate's state. A card link is an opaque string made of 24 random upper-case letters
//! after `CL-` (no digit, so it can never be or contain a My Number); it is stable for a
//! holder across new cards and renewed certificates, because the municipality hands it to the
//! platform once at ingestion. The municipality mock learns it through
//! [`JlisMock::link_for`]; the platform only ever sees it in J-LIS's answer and in ingestion.
//!
//! Answers: `200 {"status":"valid","link":"CL-…"}`, or `200 {"status":"revoked"|"suspended"|
//! "expired"}` without a link, or `404` for a serial J-LIS never issued (`400` for text that
//! is not a serial). Expiry is decided at request time with the injected clock. When several
//! states apply, revoked wins over expired, and expired over suspended.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kiban_certs::{CardSerial, Clock, JlisCa, KeyAlgorithm, PkiError, Serial};
use kiban_core::id::MyNumber;
use kiban_core::time::Timestamp;
use rand::{Rng, RngExt};
use serde::Serialize;
use tokio::net::TcpListener;

use crate::card::{Card, CardError, CardHolder, CardValidity, Pin, x509_validity};

/// Letters of card links and card serials drawn from an injected generator.
const LETTERS: &[u8; 26] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALPHANUMERIC: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The opaque link between a card holder and the municipality's record, as the platform
/// knows it (`card_link` in ingestion). Never derived from, and never containing, a My Number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CardLink(String);

impl CardLink {
    /// The link as text (`CL-` and 24 upper-case letters).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn random<R: Rng + ?Sized>(rng: &mut R) -> CardLink {
        let mut text = String::from("CL-");
        text.extend((0..24).map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())])));
        CardLink(text)
    }
}

impl fmt::Display for CardLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A certificate's state in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertificateState {
    /// Valid now.
    Valid,
    /// On hold: the card was reported lost (一時保留).
    Suspended,
    /// Revoked (失効): the holder's request, a lost card not found, or a newer card.
    Revoked,
    /// Past its notAfter at the clock's `now`.
    Expired,
}

impl CertificateState {
    /// The word J-LIS answers with.
    pub const fn as_str(self) -> &'static str {
        match self {
            CertificateState::Valid => "valid",
            CertificateState::Suspended => "suspended",
            CertificateState::Revoked => "revoked",
            CertificateState::Expired => "expired",
        }
    }
}

/// The JSON body of a J-LIS answer (what `kiban_platform::identity::JlisStatus` reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusAnswer {
    /// `valid`, `suspended`, `revoked` or `expired`.
    pub status: &'static str,
    /// The holder's card link, only when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The register's hold on a certificate (expiry is computed, not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    None,
    Suspended,
    Revoked,
}

#[derive(Debug, Clone)]
struct Record {
    link: CardLink,
    card: CardSerial,
    hold: Hold,
    not_after: Timestamp,
}

#[derive(Default)]
struct Register {
    /// Holder → link. Private: never serialised, never logged.
    links: BTreeMap<MyNumber, CardLink>,
    used_links: BTreeSet<CardLink>,
    cards: BTreeSet<CardSerial>,
    certificates: BTreeMap<Serial, Record>,
}

struct Inner {
    ca: JlisCa,
    ca_der: Vec<u8>,
    clock: Arc<dyn Clock>,
    register: Mutex<Register>,
    requests: AtomicU64,
}

/// The J-LIS mock. Cheap to clone; clones share the register.
#[derive(Clone)]
pub struct JlisMock {
    inner: Arc<Inner>,
}

impl fmt::Debug for JlisMock {
    /// Counts only: the register holds My Numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let register = self.register();
        f.debug_struct("JlisMock")
            .field("holders", &register.links.len())
            .field("certificates", &register.certificates.len())
            .finish_non_exhaustive()
    }
}

/// What J-LIS needs to issue a card.
#[derive(Debug, Clone)]
pub struct CardRequest {
    /// The holder as printed on the card.
    pub holder: CardHolder,
    /// The holder's My Number.
    pub my_number: MyNumber,
    /// The PIN the holder chose, or `None` for a face-authentication card.
    pub pin: Option<Pin>,
}

impl JlisMock {
    /// A J-LIS around `ca`, deciding expiry with `clock`.
    pub fn new(ca: JlisCa, clock: Arc<dyn Clock>) -> JlisMock {
        let ca_der = ca.cert_der().to_vec();
        JlisMock {
            inner: Arc::new(Inner {
                ca,
                ca_der,
                clock,
                register: Mutex::new(Register::default()),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// A J-LIS with a new P-256 CA valid for `days` days from `valid_from`.
    pub fn generate(
        valid_from: Timestamp,
        days: u32,
        clock: Arc<dyn Clock>,
    ) -> Result<JlisMock, PkiError> {
        Ok(JlisMock::new(
            JlisCa::generate(KeyAlgorithm::EcdsaP256, valid_from, days)?,
            clock,
        ))
    }

    /// The CA certificate (DER) the platform trusts for card certificates.
    pub fn ca_der(&self) -> &[u8] {
        &self.inner.ca_der
    }

    /// The CA.
    pub fn ca(&self) -> &JlisCa {
        &self.inner.ca
    }

    /// The clock's current instant.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// How many status questions the HTTP service has answered (any outcome).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn register(&self) -> MutexGuard<'_, Register> {
        self.inner
            .register
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues a card issued at `issued_at`, with a new key pair and certificate. The
    /// holder's earlier certificates are revoked (a new card replaces the old one). The card
    /// serial and, for a first card, the card link are drawn from `rng`.
    pub fn issue_card<R: Rng + ?Sized>(
        &self,
        request: CardRequest,
        issued_at: Timestamp,
        rng: &mut R,
    ) -> Result<Card, CardError> {
        let validity = CardValidity::at_issue(request.holder.birth_date, issued_at.date_jst())?;
        let mut register = self.register();
        let serial = loop {
            let mut text = String::from("VC");
            text.extend(
                (0..14).map(|_| char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())])),
            );
            let serial = CardSerial::parse(&text)?;
            if !register.cards.contains(&serial) {
                break serial;
            }
        };
        let issued = self.inner.ca.issue_card(
            &serial,
            x509_validity(issued_at, validity.certificate_through)?,
        )?;
        let card = Card::new(
            request.holder,
            request.my_number,
            serial.clone(),
            &issued,
            validity,
            request.pin,
        )?;
        let link = match register.links.get(&request.my_number) {
            Some(link) => link.clone(),
            None => {
                let link = loop {
                    let link = CardLink::random(rng);
                    if !register.used_links.contains(&link) {
                        break link;
                    }
                };
                register.used_links.insert(link.clone());
                register.links.insert(request.my_number, link.clone());
                link
            }
        };
        for record in register.certificates.values_mut() {
            if record.link == link {
                record.hold = Hold::Revoked;
            }
        }
        register.cards.insert(serial.clone());
        register.certificates.insert(
            issued.serial().clone(),
            Record {
                link,
                card: serial,
                hold: Hold::None,
                not_after: issued.validity().not_after,
            },
        );
        Ok(card)
    }

    /// The card link of the holder of `my_number`, if J-LIS issued them a card. This is the
    /// municipality's question (through the My Number network), never the platform's.
    pub fn link_for(&self, my_number: &MyNumber) -> Option<CardLink> {
        self.register().links.get(my_number).cloned()
    }

    /// The state of certificate `serial` now, if J-LIS issued it.
    pub fn state(&self, serial: &Serial) -> Option<CertificateState> {
        let now = self.now();
        self.register()
            .certificates
            .get(serial)
            .map(|r| state_of(r, now))
    }

    /// The answer to "is certificate `serial` valid now?" (`None`: J-LIS never issued it).
    pub fn answer(&self, serial: &Serial) -> Option<StatusAnswer> {
        let now = self.now();
        let register = self.register();
        let record = register.certificates.get(serial)?;
        let state = state_of(record, now);
        Some(StatusAnswer {
            status: state.as_str(),
            link: (state == CertificateState::Valid).then(|| record.link.0.clone()),
        })
    }

    /// The holder reports `card` lost (the 24-hour line): the card leaves the holder's hands
    /// and its certificates are put on hold.
    pub fn report_lost(&self, card: &mut Card) {
        card.mark_lost();
        self.set_hold(card, Hold::Suspended, |h| h == Hold::None);
    }

    /// The holder has `card`'s certificates revoked (失効): after a loss that ended without
    /// the card, or on the holder's request.
    pub fn revoke(&self, card: &mut Card) {
        card.mark_revoked();
        self.set_hold(card, Hold::Revoked, |_| true);
    }

    /// Revokes certificate `serial` without the card (ex officio: a leaked key, a record
    /// error). The card does not know; the platform learns it from J-LIS. `false` if J-LIS
    /// never issued it.
    pub fn revoke_certificate(&self, serial: &Serial) -> bool {
        match self.register().certificates.get_mut(serial) {
            Some(record) => {
                record.hold = Hold::Revoked;
                true
            }
            None => false,
        }
    }

    /// Releases the hold on a found card's current certificate (only the municipality's
    /// counter calls this).
    pub(crate) fn release(&self, card: &Card) -> Result<(), CardError> {
        let mut register = self.register();
        let record = register
            .certificates
            .get_mut(card.certificate_serial())
            .ok_or(CardError::UnknownToJlis)?;
        match record.hold {
            Hold::Revoked => Err(CardError::Revoked),
            Hold::None => Err(CardError::NotOnHold),
            Hold::Suspended => {
                record.hold = Hold::None;
                Ok(())
            }
        }
    }

    /// Issues a new certificate for `card` at `now` and revokes the old one (only the
    /// municipality's counter calls this).
    pub(crate) fn renew(&self, card: &mut Card, now: Timestamp) -> Result<(), CardError> {
        let on = now.date_jst();
        let validity = card.validity();
        if on < validity.renewal_opens() {
            return Err(CardError::RenewalTooEarly(validity.renewal_opens()));
        }
        card.check(on).or_else(|e| match e {
            CardError::CertificateExpired(_) | CardError::Locked => Ok(()),
            other => Err(other),
        })?;
        let mut register = self.register();
        let old = register
            .certificates
            .get(card.certificate_serial())
            .cloned()
            .ok_or(CardError::UnknownToJlis)?;
        match old.hold {
            Hold::Revoked => return Err(CardError::Revoked),
            Hold::Suspended => return Err(CardError::Lost),
            Hold::None => {}
        }
        let renewed = validity.renewed(card.holder().birth_date, on);
        let issued = self.inner.ca.issue_card(
            card.serial(),
            x509_validity(now, renewed.certificate_through)?,
        )?;
        let old_serial = card.certificate_serial().clone();
        card.replace_certificate(&issued, renewed)?;
        if let Some(record) = register.certificates.get_mut(&old_serial) {
            record.hold = Hold::Revoked;
        }
        register.certificates.insert(
            issued.serial().clone(),
            Record {
                hold: Hold::None,
                not_after: issued.validity().not_after,
                ..old
            },
        );
        Ok(())
    }

    fn set_hold(&self, card: &Card, hold: Hold, applies: impl Fn(Hold) -> bool) {
        let mut register = self.register();
        for record in register.certificates.values_mut() {
            if &record.card == card.serial() && applies(record.hold) {
                record.hold = hold;
            }
        }
    }

    /// The HTTP service's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/certificates/{serial}", get(certificate_status))
            .with_state(self.clone())
    }

    /// Serves the HTTP interface on `listener` (plain HTTP, as the platform's J-LIS client
    /// speaks) until the returned server is shut down or dropped. Must be called inside a
    /// tokio runtime.
    pub fn serve(&self, listener: TcpListener) -> Result<JlisServer, std::io::Error> {
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| std::io::Error::other(format!("no tokio runtime: {e}")))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = self.router();
        let task = runtime.spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(JlisServer {
            addr,
            stop: Some(stop),
            task,
        })
    }
}

fn state_of(record: &Record, now: Timestamp) -> CertificateState {
    match record.hold {
        Hold::Revoked => CertificateState::Revoked,
        _ if now > record.not_after => CertificateState::Expired,
        Hold::Suspended => CertificateState::Suspended,
        Hold::None => CertificateState::Valid,
    }
}

async fn certificate_status(State(jlis): State<JlisMock>, Path(serial): Path<String>) -> Response {
    jlis.inner.requests.fetch_add(1, Ordering::Relaxed);
    let Ok(serial) = serial.parse::<Serial>() else {
        return (StatusCode::BAD_REQUEST, "not a certificate serial").into_response();
    };
    match jlis.answer(&serial) {
        Some(answer) => axum::Json(answer).into_response(),
        None => (StatusCode::NOT_FOUND, "unknown certificate").into_response(),
    }
}

/// The running J-LIS HTTP service. Dropping it stops the service.
#[derive(Debug)]
pub struct JlisServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl JlisServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, what `kiban_platform::identity::JlisClient::new` takes.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish (at most one second), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let abort = self.task.abort_handle();
        if tokio::time::timeout(std::time::Duration::from_secs(1), &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

impl Drop for JlisServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}
