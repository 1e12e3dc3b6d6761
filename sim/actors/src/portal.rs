//! The person's side (マイナポータル via PMH): a card holder signs in with their card
//! through the relay, reads their own records, their access log and consent receipts,
//! withdraws consent, sees and ends representations; a representative (family member or
//! guardian registered by the municipality) signs in with their own card and acts for the
//! person within the person's rights (DOMAIN §1, §4).
//!
//! The relay connects with a certificate of role `person` and no organisation
//! (`urn:kiban:principal:v1:person:-:<terminal>`); persons and representatives have no
//! certificate of their own. Signing in is a card verification like an office's: a nonce,
//! the card signing it in the holder's reader (a smartphone or a PC reader), J-LIS
//! confirming the card now. A `jlis-unavailable` answer is retried with a new nonce.
//!
//! Each signed-in holder is a [`HolderSession`] (its token never appears in `Debug`); every
//! call names the session it is made in and the person it is about.

use std::fmt;

use kiban_core::time::Timestamp;
use kiban_core::vocab::InfoClass;
use kiban_platform::identity::Nonce;
use kiban_platform::model::{AccessLogEntry, ConsentReceipt};
use kiban_platform::platform::{PortalSignIn, RepresentativeEntry};
use rand_chacha::ChaCha8Rng;

use crate::card::Card;
use crate::client::{ApiRequest, ApiResponse, PlatformClient, RetryPolicy};
use crate::jlis::CardLink;
use crate::outcome::{ActorError, ReadOutcome, Reason};
use crate::reader::{CardReader, Presence};
use crate::wire::{PersonRef, send};

/// A card holder signed in through the relay.
pub struct HolderSession {
    token: String,
    /// The holder's own insured record, if the holder is insured.
    pub person: Option<PersonRef>,
    /// Persons the holder represents.
    pub represents: Vec<PersonRef>,
    /// When the session ends (RFC 3339).
    pub expires_at: String,
    /// Attempts the sign-in took (a J-LIS outage costs one each).
    pub attempts: u32,
}

impl fmt::Debug for HolderSession {
    /// Everything but the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HolderSession")
            .field("person", &self.person)
            .field("represents", &self.represents)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The マイナポータル relay.
#[derive(Debug)]
pub struct Portal {
    client: PlatformClient,
    reader: CardReader<ChaCha8Rng>,
    retry: RetryPolicy,
}

impl Portal {
    /// The relay calling through `client` (a certificate of role `person`), reading cards
    /// with `reader`.
    pub fn new(client: PlatformClient, reader: CardReader<ChaCha8Rng>) -> Portal {
        Portal {
            client,
            reader,
            retry: RetryPolicy::default(),
        }
    }

    /// The same relay with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Portal {
        self.retry = retry;
        self
    }

    /// Signs the holder of `card` in, confirmed by `presence` at `now`.
    pub async fn sign_in(
        &mut self,
        card: &mut Card,
        presence: Presence,
        now: Timestamp,
    ) -> Result<HolderSession, ActorError> {
        let attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let nonce: Nonce = send(
                &self.client,
                &ApiRequest::post("/v1/identity/nonce"),
                &self.retry,
            )
            .await?
            .json()?;
            let assertion = self.reader.assert(card, &nonce.nonce, presence, now)?;
            let request = ApiRequest::post("/v1/portal/session").json(&assertion)?;
            match send(&self.client, &request, &self.retry).await {
                Ok(answer) => {
                    let signed: PortalSignIn = answer.json()?;
                    return Ok(HolderSession {
                        token: signed.token,
                        person: signed.person.as_ref().map(PersonRef::from),
                        represents: signed.represents.iter().map(PersonRef::from).collect(),
                        expires_at: signed.expires_at,
                        attempts: attempt,
                    });
                }
                Err(e) if attempt < attempts && e.reason() == Some(Reason::JlisUnavailable) => {
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn call(
        &self,
        session: &HolderSession,
        request: ApiRequest,
    ) -> Result<ApiResponse, ActorError> {
        send(
            &self.client,
            &request.bearer(session.token.clone()),
            &self.retry,
        )
        .await
    }

    /// Ends the session.
    pub async fn sign_out(&self, session: HolderSession) -> Result<(), ActorError> {
        self.call(&session, ApiRequest::delete("/v1/portal/session"))
            .await?;
        Ok(())
    }

    /// Reads one class of `of`'s records (their own, or a represented person's).
    pub async fn read(
        &self,
        session: &HolderSession,
        of: PersonRef,
        class: InfoClass,
    ) -> Result<ReadOutcome, ActorError> {
        let request = ApiRequest::get(of.path(&format!("classes/{class}")));
        ReadOutcome::from_result(self.call(session, request).await)
    }

    /// Who did what with `of`'s records, as the person sees it (no staff ids, terminals or
    /// certificate serials).
    pub async fn access_log(
        &self,
        session: &HolderSession,
        of: PersonRef,
    ) -> Result<Vec<AccessLogEntry>, ActorError> {
        Ok(self
            .call(session, ApiRequest::get(of.path("access-log")))
            .await?
            .json()?)
    }

    /// `of`'s consent receipts.
    pub async fn consent_receipts(
        &self,
        session: &HolderSession,
        of: PersonRef,
    ) -> Result<Vec<ConsentReceipt>, ActorError> {
        Ok(self
            .call(session, ApiRequest::get(of.path("consent-receipts")))
            .await?
            .json()?)
    }

    /// Withdraws `of`'s comprehensive consent (sent once: a second withdrawal is refused
    /// `no-consent-to-withdraw`).
    pub async fn withdraw_consent(
        &self,
        session: &HolderSession,
        of: PersonRef,
    ) -> Result<ConsentReceipt, ActorError> {
        Ok(self
            .call(session, ApiRequest::delete(of.path("consent")))
            .await?
            .json()?)
    }

    /// `of`'s representatives.
    pub async fn representatives(
        &self,
        session: &HolderSession,
        of: PersonRef,
    ) -> Result<Vec<RepresentativeEntry>, ActorError> {
        Ok(self
            .call(session, ApiRequest::get(of.path("representatives")))
            .await?
            .json()?)
    }

    /// The person ends a representation of themselves.
    pub async fn end_representative(
        &self,
        session: &HolderSession,
        of: PersonRef,
        agent: &CardLink,
    ) -> Result<RepresentativeEntry, ActorError> {
        let request = ApiRequest::delete(of.path(&format!("representatives/{}", agent.as_str())));
        Ok(self.call(session, request).await?.json()?)
    }
}
