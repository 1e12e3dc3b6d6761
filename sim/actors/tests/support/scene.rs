//! A scene for the actors' end-to-end tests: the platform on a real socket (TLS 1.3, client
//! certificates from a real PKI folder), the J-LIS mock on a real socket, the operator, and
//! Yokohama's system — plus helpers that register offices and open their terminals the way
//! the operator does.

use std::sync::Arc;

use kiban_actors::client::RetryPolicy;
use kiban_actors::jlis::{JlisMock, JlisServer};
use kiban_actors::migration::MigrationState;
use kiban_actors::municipality::{Municipality, MunicipalityConfig};
use kiban_actors::office::{Office, OfficeSpec};
use kiban_actors::operator::Operator;
use kiban_actors::people::{PeopleConfig, Person, generate};
use kiban_actors::portal::Portal;
use kiban_actors::reader::{CardReader, ReaderConfig};
use kiban_certs::{Clock, ManualClock, Organisation};
use kiban_core::id::{CareOfficeNumber, MedicalInstitutionCode};
use kiban_core::vocab::Role;
use kiban_platform::careplan::ServiceTypeCode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Running, at, date, jlis_on, serve_jlis, yokohama};

/// Retries quick enough for tests.
pub fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_millis(20),
    }
}

/// Yokohama people from `seed`: ages on 2026-10-01, `card_rate` of them with a card,
/// `rep_rate` with a representative.
pub fn people(seed: u64, count: usize, card_rate: f64, rep_rate: f64) -> Vec<Person> {
    let config = PeopleConfig {
        municipalities: Some(vec![yokohama()]),
        card_holding_rate: card_rate,
        representative_rate: rep_rate,
        ..PeopleConfig::standard(date("2026-10-01"))
    };
    generate(seed, count, config).unwrap()
}

/// A care office number drawn from `seed`.
pub fn care_office(seed: u64) -> Organisation {
    Organisation::CareOffice(CareOfficeNumber::random(&mut ChaCha8Rng::seed_from_u64(
        seed,
    )))
}

/// A medical institution code drawn from `seed`.
pub fn clinic(seed: u64) -> Organisation {
    Organisation::MedicalInstitution(MedicalInstitutionCode::random(
        &mut ChaCha8Rng::seed_from_u64(seed),
    ))
}

pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// Everything an actors test needs.
pub struct Scene {
    pub server: Running,
    pub jlis: JlisMock,
    pub jlis_server: JlisServer,
    pub clock: Arc<ManualClock>,
    pub operator: Operator,
    pub city: Municipality,
}

impl Scene {
    /// The platform and J-LIS at `today`, the operator, and Yokohama's system on its legacy
    /// system (not yet on the platform).
    pub async fn start(today: &str) -> Scene {
        Scene::start_asking(today, None).await
    }

    /// The scene with the platform asking J-LIS at `jlis_url` (e.g. a wiremock peer)
    /// instead of the mock's own server.
    pub async fn start_asking(today: &str, jlis_url: Option<String>) -> Scene {
        let clock = Arc::new(ManualClock::new(at(today)));
        let jlis = jlis_on(clock.clone());
        let jlis_server = serve_jlis(&jlis).await;
        let url = jlis_url.unwrap_or_else(|| jlis_server.base_url());
        let mut server = Running::start(clock.clone(), Some((url, jlis.ca_der().to_vec()))).await;
        let operator =
            Operator::new(server.client(&Running::principal(Role::Operator, "-", "ops1")))
                .with_retry(quick());
        let city_client = server.client(&Running::principal(
            Role::Municipality,
            super::YOKOHAMA,
            "kikan1",
        ));
        let city = Municipality::new(
            yokohama(),
            city_client,
            jlis.clone(),
            MunicipalityConfig {
                retry: quick(),
                ..MunicipalityConfig::standard(7)
            },
        )
        .unwrap();
        Scene {
            server,
            jlis,
            jlis_server,
            clock,
            operator,
            city,
        }
    }

    /// Registers an office in Yokohama with the operator, opens terminal `terminal` with a
    /// certificate valid `days` days, and signs the administrator in on it.
    pub async fn office(
        &mut self,
        role: Role,
        organisation: Organisation,
        name: &str,
        service_type: Option<&str>,
        terminal: &str,
        days: u32,
    ) -> Office {
        self.operator
            .register_office(&organisation, role, yokohama(), ADMIN_PASSWORD)
            .await
            .unwrap();
        let spec = OfficeSpec {
            role,
            organisation,
            name: name.to_owned(),
            municipality: yokohama(),
            service_type: service_type.map(|t| ServiceTypeCode::parse(t).unwrap()),
        };
        let mut office = Office::new(spec, ADMIN_PASSWORD, 11).with_retry(quick());
        office
            .open_terminal(
                terminal,
                &mut self.server.desk(),
                days,
                ReaderConfig::default(),
            )
            .unwrap();
        office.sign_in(terminal, "admin").await.unwrap();
        office
    }

    /// Yokohama migrates step by step (standardized and sending a month earlier) and the
    /// operator schedules its go-live on `day`.
    pub async fn share_from(&mut self, day: &str) {
        let before = date(day).plus_months(-1);
        self.city
            .migrate(MigrationState::Standardized, before)
            .unwrap();
        self.city.migrate(MigrationState::Sending, before).unwrap();
        self.city
            .migrate(MigrationState::Sharing, date(day))
            .unwrap();
        self.operator
            .enrol_municipality(yokohama(), Some(date(day)))
            .await
            .unwrap();
    }

    /// The マイナポータル relay.
    pub fn portal(&mut self) -> Portal {
        let client = self
            .server
            .client(&Running::principal(Role::Person, "-", "pmh-01"));
        let reader =
            CardReader::new(ReaderConfig::default(), ChaCha8Rng::seed_from_u64(3)).unwrap();
        Portal::new(client, reader).with_retry(quick())
    }

    /// Moves the platform's (and J-LIS's) clock to `day` through the operator and publishes
    /// a fresh CRL, as the operator does at least weekly.
    pub async fn set_date(&mut self, day: &str) {
        self.operator.set_clock(at(day)).await.unwrap();
        assert_eq!(self.clock.now(), at(day));
        self.server.desk().publish_crl().unwrap();
    }
}
