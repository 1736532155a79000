//! One error type for every route, with stable machine codes.
//!
//! Every failure a client can cause answers `{"error": {"code", "message", "details"}}` with a
//! 4xx status and a code from [`Code`]; the table is documented in `docs/api-errors.md` and
//! tested. A 500 is logged with its cause and answered without it. Libraries use `thiserror`;
//! this is the boundary where their errors become answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carebook_domain::ValidationError;
use carebook_store::StoreError;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

macro_rules! codes {
    ($($variant:ident = $code:literal, $status:ident, $meaning:literal;)*) => {
        /// The stable error codes. Clients match on these, never on messages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str { match self { $(Code::$variant => $code,)* } }
            pub fn status(self) -> StatusCode { match self { $(Code::$variant => StatusCode::$status,)* } }
            pub fn meaning(self) -> &'static str { match self { $(Code::$variant => $meaning,)* } }
        }
    };
}

codes! {
    MalformedJson = "malformed_json", BAD_REQUEST, "The body is not valid JSON.";
    InvalidBody = "invalid_body", UNPROCESSABLE_ENTITY, "The JSON does not have the expected shape: a field is missing, of the wrong type, unknown, or an enum value is not one of the allowed ones.";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "The body must be sent with `Content-Type: application/json`.";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "The body is larger than the server accepts.";
    InvalidParameter = "invalid_parameter", BAD_REQUEST, "A path or query parameter cannot be parsed (a bad UUID, cursor, date or number).";
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "Fields parsed but broke a rule; `details.fields` lists each field and why.";
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "No valid access token was sent, or it expired.";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "The email or password is wrong.";
    MfaRequired = "mfa_required", UNAUTHORIZED, "The account uses two-factor authentication: send `mfa_code` (or a recovery code) with the password.";
    InvalidMfaCode = "invalid_mfa_code", UNAUTHORIZED, "The one-time code is wrong, expired or already used.";
    InvalidRefreshToken = "invalid_refresh_token", UNAUTHORIZED, "The refresh token is unknown, expired or revoked.";
    RefreshTokenReused = "refresh_token_reused", UNAUTHORIZED, "A refresh token was used twice; every token of its family has been revoked. Sign in again.";
    AccountLocked = "account_locked", LOCKED, "Too many failed sign-in attempts; `details.locked_until` says when to try again.";
    AccountInactive = "account_inactive", FORBIDDEN, "The account has been deactivated.";
    Forbidden = "forbidden", FORBIDDEN, "The caller's role lacks the permission this action needs, or the resource belongs to another clinic.";
    SelfRegistrationDisabled = "self_registration_disabled", FORBIDDEN, "This clinic does not accept patient self-registration.";
    InvalidToken = "invalid_or_expired_token", BAD_REQUEST, "The reset or verification token is unknown, expired or already used.";
    NotFound = "not_found", NOT_FOUND, "No such resource (or it is not visible to the caller).";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "The path exists but not with this method.";
    Conflict = "conflict", CONFLICT, "The change conflicts with existing data (a unique value already taken).";
    EmailTaken = "email_taken", CONFLICT, "Another account already uses this email.";
    SlugTaken = "slug_taken", CONFLICT, "Another clinic already uses this slug.";
    IdentityTaken = "identity_taken", CONFLICT, "This external identity is already linked to an account.";
    InvalidState = "invalid_state", CONFLICT, "The action does not apply in the resource's current state (e.g. confirming MFA that was never enrolled).";
    SlotUnavailable = "slot_unavailable", CONFLICT, "The requested time cannot be booked: it is taken, outside working hours, off the slot grid, or the day is unavailable. `details.reason` says which and `details.alternatives` lists the next free starts.";
    PatientBusy = "patient_busy", CONFLICT, "The patient already has an appointment at that time.";
    DailyCapReached = "daily_cap_reached", CONFLICT, "The provider's daily appointment cap is reached that day; `details.alternatives` lists the next free starts. Only emergencies with providers who take them pass it.";
    NotBookable = "not_bookable", CONFLICT, "The service, provider or clinic does not take this booking (inactive service, provider not offering it here or in this mode, clinic closed).";
    InvalidTransition = "invalid_transition", CONFLICT, "The appointment's status does not allow this action; `details.allowed_actions` lists what it allows.";
    CancellationCutoffPassed = "cancellation_cutoff_passed", CONFLICT, "Patients cancel or reschedule online only until the clinic's cutoff before the start (`details.cutoff_at`); the clinic's staff still can.";
    NotStartedYet = "not_started_yet", CONFLICT, "A no-show can be recorded only after the appointment's start time.";
    SelfBookingDisabled = "self_booking_disabled", FORBIDDEN, "This clinic does not take bookings from patients online.";
    AlreadyWaiting = "already_waiting", CONFLICT, "The patient is already on the waitlist for this service; change that entry instead.";
    OfferNotOpen = "offer_not_open", CONFLICT, "The waitlist entry has no open offer to accept or decline (it was answered, withdrawn or never made).";
    OfferExpired = "offer_expired", CONFLICT, "The waitlist offer ran out before it was accepted; the time has gone to the next patient in line.";
    EntryClosed = "entry_closed", CONFLICT, "The waitlist entry is assigned, cancelled or expired and cannot change.";
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, "Too many requests from this address; retry after `Retry-After` seconds.";
    Internal = "internal", INTERNAL_SERVER_ERROR, "An unexpected server error; it has been logged with the request id.";
    Unavailable = "unavailable", SERVICE_UNAVAILABLE, "A dependency (the database) is not reachable, or too busy to take the request in time; retry after `Retry-After` seconds.";
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// Stable machine-readable code; see the error code table.
    pub code: String,
    /// Human-readable explanation; may change between versions.
    pub message: String,
    /// Structured extra information (invalid fields, allowed values, retry time).
    #[schema(value_type = Object)]
    pub details: Value,
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub details: Value,
    retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: json!({}),
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Code::Forbidden, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthenticated, message)
    }

    pub fn validation(errors: Vec<ValidationError>) -> Self {
        let fields: Vec<Value> = errors
            .iter()
            .map(|e| json!({"field": e.field, "message": e.message}))
            .collect();
        let message = errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(Code::ValidationFailed, message).with_details(json!({ "fields": fields }))
    }

    pub fn invalid_parameter(name: &str, message: impl std::fmt::Display) -> Self {
        Self::new(Code::InvalidParameter, format!("{name}: {message}"))
            .with_details(json!({ "parameter": name }))
    }

    /// A 500: the cause goes to the log with the request id, never to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(Code::Internal, "internal server error")
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::validation(vec![e])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("resource"),
            StoreError::Conflict(what) => {
                let code = if what.contains("email") {
                    Code::EmailTaken
                } else if what.contains("slug") {
                    Code::SlugTaken
                } else if what.contains("issuer") || what.contains("external_identities") {
                    Code::IdentityTaken
                } else {
                    Code::Conflict
                };
                ApiError::new(code, code.meaning())
            }
            StoreError::Refused => ApiError::new(
                Code::Conflict,
                "the change conflicts with another one; nothing was saved",
            ),
            StoreError::MissingReference(_) => ApiError::new(
                Code::ValidationFailed,
                "a referenced resource does not exist",
            ),
            StoreError::Busy(why) => {
                tracing::warn!(reason = why, "database busy; request refused");
                ApiError::new(Code::Unavailable, "the server is busy; try again shortly")
                    .retry_after(1)
            }
            StoreError::Invalid(what) => {
                tracing::warn!(constraint = %what, "value refused by a database constraint");
                ApiError::new(
                    Code::ValidationFailed,
                    "a value is outside its allowed range",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if status.is_server_error() {
            metrics::counter!("carebook_http_server_errors_total").increment(1);
        }
        let body = ErrorBody {
            error: ErrorObject {
                code: self.code.as_str().to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// The error code table in Markdown, generated from [`Code`] (kept in `docs/api-errors.md`
/// and checked by a test, so the document cannot go stale).
pub fn code_table_markdown() -> String {
    let mut out = String::from("| code | HTTP status | meaning |\n|---|---|---|\n");
    for c in Code::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.as_str(),
            c.status().as_u16(),
            c.meaning()
        ));
    }
    out
}
