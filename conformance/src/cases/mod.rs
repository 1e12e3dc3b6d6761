//! The suite's cases, one module per area. Each case has a stable id (`<AREA>-<nn>`), cites
//! the requirements it tests and says what the target must offer; [`all`] lists them in id
//! order. Case bodies seed their own fixtures through the public API (see `suite::Ctx`).

mod access;
mod audit;
mod careplan;
mod consent;
mod errors;
mod identity;
mod ingest;
mod privacy;
mod rollout;
mod staff;
mod submit;
mod tls;

use crate::catalogue::Area;
use crate::suite::{CaseDef, CaseFn, Need};

/// A case with no tags, needs or exclusivity (set with the builder methods).
pub(crate) const fn case(
    id: &'static str,
    area: Area,
    title: &'static str,
    requirements: &'static [&'static str],
    run: CaseFn,
) -> CaseDef {
    CaseDef {
        id,
        area,
        title,
        requirements,
        tags: &[],
        needs: &[],
        exclusive: false,
        run,
    }
}

impl CaseDef {
    /// With tags.
    pub(crate) const fn tags(mut self, tags: &'static [&'static str]) -> CaseDef {
        self.tags = tags;
        self
    }

    /// With needs.
    pub(crate) const fn needs(mut self, needs: &'static [Need]) -> CaseDef {
        self.needs = needs;
        self
    }

    /// Runs alone (moves the clock).
    pub(crate) const fn exclusive(mut self) -> CaseDef {
        self.exclusive = true;
        self
    }
}

/// Boxes an `async fn(Ctx) -> Verdict` as a [`CaseFn`].
macro_rules! body {
    ($f:path) => {
        |cx| Box::pin($f(cx))
    };
}
pub(crate) use body;

/// Every case of the suite, ordered by id.
pub fn all() -> Vec<CaseDef> {
    let mut cases: Vec<CaseDef> = [
        tls::cases(),
        staff::cases(),
        identity::cases(),
        consent::cases(),
        access::cases(),
        rollout::cases(),
        ingest::cases(),
        submit::cases(),
        careplan::cases(),
        audit::cases(),
        errors::cases(),
        privacy::cases(),
    ]
    .concat();
    cases.sort_by(|a, b| a.id.cmp(b.id));
    cases
}
