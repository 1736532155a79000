//! Who sent a request and from where: the facts every audit record carries.

use crate::auth::Principal;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use carebook_domain::audit::{AuditRecord, redact};
use serde::Serialize;
use serde_json::Value;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl RequestMeta {
    pub fn from_parts(parts: &Parts, trust_forwarded_for: bool) -> Self {
        Self::read(&parts.headers, &parts.extensions, trust_forwarded_for)
    }

    pub fn read(headers: &HeaderMap, extensions: &Extensions, trust_forwarded_for: bool) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(512).collect::<String>())
        };
        let forwarded = trust_forwarded_for
            .then(|| header("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.split(',').next().and_then(|s| s.trim().parse().ok()));
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Self {
            ip: forwarded.or(peer),
            user_agent: header("user-agent"),
            request_id: header("x-request-id"),
        }
    }

    /// The audit record of `change` made by `actor` during this request.
    pub fn audit(
        &self,
        actor: Option<&Principal>,
        change: Change,
        now: jiff::Timestamp,
    ) -> AuditRecord {
        self.audit_as(actor.map(|p| (p.user_id, p.role.as_str())), change, now)
    }

    /// Same as [`RequestMeta::audit`] for an actor known only by id and role (a login).
    pub fn audit_as(
        &self,
        actor: Option<(Uuid, &str)>,
        change: Change,
        now: jiff::Timestamp,
    ) -> AuditRecord {
        AuditRecord {
            id: Uuid::now_v7(),
            occurred_at: now,
            actor_user_id: actor.map(|a| a.0),
            actor_role: actor.map(|a| a.1.to_owned()),
            action: change.action.to_owned(),
            entity_type: change.entity_type.to_owned(),
            entity_id: change.entity_id,
            clinic_id: change.clinic_id,
            old_values: change.old.as_ref().map(redact),
            new_values: change.new.as_ref().map(redact),
            ip: self.ip.map(|i| i.to_string()),
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
        }
    }
}

/// What a request changed, for the audit trail. Values are redacted when recorded.
#[derive(Debug)]
pub struct Change {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub clinic_id: Option<Uuid>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

impl Change {
    pub fn new(
        action: &'static str,
        entity_type: &'static str,
        entity_id: Option<impl ToString>,
    ) -> Self {
        Self {
            action,
            entity_type,
            entity_id: entity_id.map(|e| e.to_string()),
            clinic_id: None,
            old: None,
            new: None,
        }
    }

    pub fn clinic(mut self, clinic_id: Option<Uuid>) -> Self {
        self.clinic_id = clinic_id;
        self
    }

    pub fn old(mut self, v: &impl Serialize) -> Self {
        self.old = serde_json::to_value(v).ok();
        self
    }

    pub fn new_values(mut self, v: &impl Serialize) -> Self {
        self.new = serde_json::to_value(v).ok();
        self
    }
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestMeta::from_parts(
            parts,
            state.config.trust_forwarded_for,
        ))
    }
}
