//! What observe mode knows about the platform's routes: the route template a request path
//! matches (from `kiban_platform::api::ROUTES`, the table the OpenAPI document is generated
//! from) and how safe it is to send a request of that route twice.

use kiban_core::vocab::Role;
use kiban_platform::api::{ROUTES, RouteSpec};

/// The route `method path` matches (`path` without its query), preferring the template with
/// the most literal segments.
pub(crate) fn route(method: &str, path: &str) -> Option<&'static RouteSpec> {
    best(path, |spec| spec.method.eq_ignore_ascii_case(method))
}

/// Any route whose template matches `path` whatever its method (to name the template of a
/// request refused for its method).
pub(crate) fn template(path: &str) -> Option<&'static str> {
    best(path, |_| true).map(|spec| spec.path)
}

fn best(path: &str, method_ok: impl Fn(&RouteSpec) -> bool) -> Option<&'static RouteSpec> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .filter(|spec| method_ok(spec))
        .filter_map(|spec| {
            let template: Vec<&str> = spec.path.split('/').collect();
            if template.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (t, s) in template.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') {
                    if s.is_empty() {
                        return None;
                    }
                } else if t == s {
                    literals += 1;
                } else {
                    return None;
                }
            }
            Some((literals, spec))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, spec)| spec)
}

/// How safe it is to send a request of a route again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// A read (`GET`).
    Safe,
    /// A write that takes an `Idempotency-Key` (ingestion, submissions): safe with the same
    /// key and bytes.
    Keyed,
    /// Idempotent by contract: `PUT`, `DELETE`, acknowledgements.
    Idempotent,
    /// Each call asks for something new on purpose (a nonce, a session).
    Fresh,
    /// Single-use material: a card verification signs a nonce that works once.
    SingleUse,
    /// A write that is applied again when sent again (uploads, activity, staff).
    Unsafe,
}

impl Resend {
    /// The kind of `spec`.
    pub(crate) fn of(spec: &RouteSpec) -> Resend {
        match (spec.method, spec.path) {
            ("GET" | "HEAD", _) => Resend::Safe,
            ("PUT" | "DELETE", _) => Resend::Idempotent,
            (_, "/v1/municipality/ingest" | "/v1/submissions") => Resend::Keyed,
            (_, "/v1/identity/verify") => Resend::SingleUse,
            (_, "/v1/identity/nonce" | "/v1/session" | "/v1/portal/session") => Resend::Fresh,
            (_, path) if path.ends_with("/ack") => Resend::Idempotent,
            _ => Resend::Unsafe,
        }
    }
}

/// The requirements a keyed route's `Idempotency-Key` rules come from: (key required, key
/// reused with other bytes).
pub(crate) fn key_requirements(path: &str) -> (&'static str, &'static str) {
    if path == "/v1/municipality/ingest" {
        ("KIBAN-ING-003", "KIBAN-ING-002")
    } else {
        ("KIBAN-SUB-001", "KIBAN-SUB-005")
    }
}

/// Whether `role` may call `spec` (routes without roles are open to every certificate).
pub(crate) fn allows(spec: &RouteSpec, role: Role) -> bool {
    spec.roles.is_empty() || spec.roles.contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_their_templates_and_literals_win() {
        let r = route("GET", "/v1/careplan/files/by-id/7").map(|s| s.path);
        assert_eq!(r, Some("/v1/careplan/files/by-id/{id}"));
        let r = route("PUT", "/v1/careplan/files/UPPLAN_x.csv").map(|s| s.path);
        assert_eq!(r, Some("/v1/careplan/files/{name}"));
        let r = route("GET", "/v1/municipality/inbox?after=0&limit=100").map(|s| s.path);
        assert_eq!(r, Some("/v1/municipality/inbox"));
        assert!(route("GET", "/v1/nowhere").is_none());
        assert!(route("PATCH", "/v1/municipality/ingest").is_none());
        assert_eq!(
            template("/v1/municipality/ingest"),
            Some("/v1/municipality/ingest")
        );
        assert!(route("GET", "/v1/persons//x/classes/y").is_none());
    }

    #[test]
    fn resend_kinds_follow_the_contract() {
        let kind = |m, p| route(m, p).map(Resend::of);
        assert_eq!(kind("POST", "/v1/municipality/ingest"), Some(Resend::Keyed));
        assert_eq!(
            kind("POST", "/v1/municipality/inbox/3/ack"),
            Some(Resend::Idempotent)
        );
        assert_eq!(kind("POST", "/v1/identity/verify"), Some(Resend::SingleUse));
        assert_eq!(kind("POST", "/v1/identity/nonce"), Some(Resend::Fresh));
        assert_eq!(
            kind("POST", "/v1/persons/141003/A1/classes/care-plan"),
            Some(Resend::Unsafe)
        );
        assert_eq!(
            kind("GET", "/v1/persons/141003/A1/classes/care-plan"),
            Some(Resend::Safe)
        );
    }
}
