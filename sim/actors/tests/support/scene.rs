//! A scene for the actors' end-to-end tests, built on the crate's own wire world
//! ([`kiban_actors::world::WireWorld`]: the platform on a real socket with TLS 1.3 and client
//! certificates from a real PKI folder, the J-LIS mock on a real socket, the operator), plus
//! Yokohama's system and helpers that register offices and open their terminals the way the
//! operator does.

use std::sync::Arc;

use kiban_actors::client::RetryPolicy;
use kiban_actors::jlis::JlisMock;
use kiban_actors::municipality::Municipality;
use kiban_actors::office::{Office, OfficeSpec};
use kiban_actors::operator::Operator;
use kiban_actors::people::{PeopleConfig, Person, generate};
use kiban_actors::portal::Portal;
use kiban_actors::world::{OfficeSetup, TerminalSetup, WireWorld, WorldConfig, quick_retry};
use kiban_certs::{Clock, ManualClock, Organisation};
use kiban_core::id::{CareOfficeNumber, MedicalInstitutionCode};
use kiban_core::vocab::Role;
use kiban_platform::careplan::ServiceTypeCode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{at, date, yokohama};

/// Retries quick enough for tests.
pub fn quick() -> RetryPolicy {
    quick_retry()
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
    pub world: WireWorld,
    pub jlis: JlisMock,
    pub clock: Arc<ManualClock>,
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
        let config = WorldConfig {
            label: "actors-test".to_owned(),
            jlis_url,
            ..WorldConfig::new(date(today), date(today).plus_months(24))
        };
        let mut world = WireWorld::start(config).await.unwrap();
        let city = world.municipality_system(yokohama(), 7).unwrap();
        Scene {
            jlis: world.jlis().clone(),
            clock: world.clock(),
            world,
            city,
        }
    }

    /// The operator.
    pub fn operator(&self) -> &Operator {
        self.world.operator()
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
        let setup = OfficeSetup {
            spec: OfficeSpec {
                role,
                organisation,
                name: name.to_owned(),
                municipality: yokohama(),
                service_type: service_type.map(|t| ServiceTypeCode::parse(t).unwrap()),
            },
            admin_password: ADMIN_PASSWORD.to_owned(),
            seed: 11,
            terminals: vec![TerminalSetup {
                name: terminal.to_owned(),
                days,
                staff: "admin".to_owned(),
            }],
        };
        self.world.open_office(setup).await.unwrap()
    }

    /// Yokohama migrates step by step (standardized and sending a month earlier) and the
    /// operator schedules its go-live on `day`.
    pub async fn share_from(&mut self, day: &str) {
        let before = date(day).plus_months(-1);
        self.world
            .put_on_platform(&mut self.city, before, Some(date(day)))
            .await
            .unwrap();
    }

    /// The マイナポータル relay.
    pub fn portal(&mut self) -> Portal {
        self.world.portal("pmh-01", 3).unwrap()
    }

    /// Moves the platform's (and J-LIS's) clock to `day` through the operator and publishes
    /// a fresh CRL, as the operator does at least weekly.
    pub async fn set_date(&mut self, day: &str) {
        self.world.set_date(date(day)).await.unwrap();
        assert_eq!(self.clock.now(), at(day));
    }
}
