//! The J-LIS mock's HTTP contract, asked by the platform's own J-LIS client: valid with the
//! card link, suspended, revoked and expired without it, 404 for a serial it never issued,
//! 400 for a path that is not a serial; and shutting it down makes it unreachable.

mod support;

use std::sync::Arc;

use kiban_actors::client::{ApiRequest, ClientError, PlatformClient};
use kiban_certs::{ManualClock, Serial};
use kiban_platform::identity::{JlisClient, JlisError, JlisStatus};
use support::*;

#[tokio::test]
async fn the_platforms_client_reads_every_state() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock.clone());
    let server = serve_jlis(&jlis).await;
    let client = JlisClient::new(&server.base_url()).unwrap();
    let people = yokohama_people(41, 3);
    let mut cards: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, p)| issue(&jlis, p, "2026-09-01", i as u64))
        .collect();
    let link = jlis.link_for(people[0].my_number()).unwrap();
    assert_eq!(
        client.status(cards[0].certificate_serial()).await.unwrap(),
        JlisStatus {
            status: "valid".into(),
            link: Some(link.as_str().to_owned())
        }
    );
    jlis.report_lost(&mut cards[1]);
    jlis.revoke(&mut cards[2]);
    for (card, expected) in [(&cards[1], "suspended"), (&cards[2], "revoked")] {
        assert_eq!(
            client.status(card.certificate_serial()).await.unwrap(),
            JlisStatus {
                status: expected.into(),
                link: None
            }
        );
    }
    clock.set(
        cards[0]
            .validity()
            .certificate_through
            .plus_days(1)
            .midnight_jst(),
    );
    assert_eq!(
        client
            .status(cards[0].certificate_serial())
            .await
            .unwrap()
            .status,
        "expired"
    );
    assert_eq!(jlis.requests(), 4);
}

#[tokio::test]
async fn unknown_serials_are_404_and_junk_is_400() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock);
    let server = serve_jlis(&jlis).await;
    let unknown = Serial::from_be_bytes(&[0x42; 16]).unwrap();
    let err = JlisClient::new(&server.base_url())
        .unwrap()
        .status(&unknown)
        .await
        .unwrap_err();
    assert_eq!(err, JlisError::Malformed("status 404 Not Found".into()));
    let raw = PlatformClient::plain(server.addr());
    let err = raw
        .send(&ApiRequest::get("/v1/certificates/not-hex"))
        .await
        .unwrap_err();
    assert_eq!(err.refusal().map(|r| r.status), Some(400));
}

#[tokio::test]
async fn a_shut_down_jlis_is_unreachable() {
    let clock = Arc::new(ManualClock::new(at("2026-10-01")));
    let jlis = jlis_on(clock);
    let server = serve_jlis(&jlis).await;
    let addr = server.addr();
    let client = PlatformClient::plain(addr);
    let unknown = ApiRequest::get("/v1/certificates/42");
    assert!(matches!(
        client.send(&unknown).await,
        Err(ClientError::Refused(_))
    ));
    server.shutdown().await;
    let after = PlatformClient::plain(addr);
    assert!(matches!(
        after.send(&unknown).await,
        Err(ClientError::Connect(_))
    ));
}
