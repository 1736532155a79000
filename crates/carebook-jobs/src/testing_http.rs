//! The HTTP test servers of [`crate::testing`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// A throwaway RSA key of a test service account (PKCS#8), and its public half.
pub const TEST_ACCOUNT_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC0BhCcyfbEqFJx\nnQs8tTqZZTFAWvhIUVJ6dpyGounsAYNiQGe4f/rX1qKDiFc4QL+aD9f8vXXKLYF4\nGIm3uNrYzgJb7OY0lwbfNNGFwaTaIHItNgK1nAcksrfuROSZtO1v/cZ3XKUVcZU9\n8DYX4YgHgAy2xt2bd3dDFzd6/pW3Ur7mJ1Ik4kpFIYYiqkrMdJkzGIkn95tq3Ybl\nyJ03hh8ki3MX/GgHsdMKfetl90uJ6UtwwRdxdAKt7MziM9cweohjiEuoSADhVoTg\nU8OsWbFV20/MYhnF9xa5XTc/Y1m7TU5QsyXubeAYQJL9APtzS/RR3eraYWGiPYUa\nmA2kXlmxAgMBAAECggEAETf2yQ5Ss2DfoNUK5Pu3DwK0JSIGVyFrHIJBiqmkquGC\nq+g523ZnO1OA0AifggaEZQOQrrB+5o93b5GWQ4uzZ/L9XAZCxwMugbUjOLJKtp/N\nl+gvdmgl8UNETy6I+HArGS/6VoKWmiBW7FmQTPSx/ninjqhi/BqfPjwnXvTghEwF\nAsk7gGBvaWfP68t5/uQ3TvtPb/aa2izTVG3iGlbY+86gvvANAXmwA6iY+gSwrvPk\n5Ki5DyQKmDhwkdIVl3eG3+tSj/2q1wz3FqzLKLxlNUeVtYaYFTjezxRcAb0V0BLd\nYmrTn/x/hF7zuxqetN9czSKBlruHr6tsXWCzrZTnGQKBgQD0hV/zV6GeUY97UUCX\nyllG80v/PFKgM/USp/7RmmuU8vXPVsKea3HNcK08sYVV5vHOCfWfSjEFO+xLFyvA\nVSYlROAtJwMFd2LyczW5wQ9DamprpCP1O/wQtkvPmCpw0Xd3XdB90JhzEsE0CgZc\n0MOdd29p/ZoA8W/I3Il9H7Dw2QKBgQC8eZGjhUzkNwdl1J4umGJIX4l2ZJcWg8be\nPb+6HWofqAqSiw4FCAi5m+8slDnRGXSelkBMYjXDekfnXd7Rqq3o4LmhSYIqzghV\nWXkZICvOi4BJ0Y7NYPa/1KLmEwaXyeLZT6JrO1nQP1fs8oFVMyyxReEQyGUUTTYE\nyEGpyBComQKBgHmwEpNAzi7C+jvtsM6Zphp4JB8OfzQ5B0LUlizrw5Rp4UjhLZO3\ndvg9lgk5c1jPyRC3xiQSwRiQvMSV8HEULxqnD0WJP6itxHFSQq+B073CLNoK4tY9\nlvEeN9ZFLQHeTKz75DFo6SWDdOEYCBiS0HcCJFFEIytK/E2i6014ww7pAoGBAJw1\nMcTSXUkkZqg6USQTPhn3vKl4c1TAwRk/GmG5sVQtZR3RzDvVTc3v9IoBC+5G58Xs\nh7wHBcJO3btfrKYfjOXfI1sO3qh1fKiocFqntEcKjbggy/dibv/Mz3pauHMjazVq\n8BVp6mVTqp8C2rhvopIGdaQAQu5Rk/zgsLNz0oK5AoGBAKx/bcakerd+8yCYJWad\ngqGFbF8IilWLM78Wl1NpkoKon8x8Jcil6YgSRTS7aX29NEtTjBBcKcrXVjET64s/\npwAZ2OIjq8WN3oa78JpUEpXpAOpfLfpjRiM9Qzvuz/uG1cMq1O6cFLU92QnV0xux\nbOooc/u0X2Ut35vY4KA/CbDd\n-----END PRIVATE KEY-----\n";
pub const TEST_ACCOUNT_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtAYQnMn2xKhScZ0LPLU6\nmWUxQFr4SFFSenachqLp7AGDYkBnuH/619aig4hXOEC/mg/X/L11yi2BeBiJt7ja\n2M4CW+zmNJcG3zTRhcGk2iByLTYCtZwHJLK37kTkmbTtb/3Gd1ylFXGVPfA2F+GI\nB4AMtsbdm3d3Qxc3ev6Vt1K+5idSJOJKRSGGIqpKzHSZMxiJJ/ebat2G5cidN4Yf\nJItzF/xoB7HTCn3rZfdLielLcMEXcXQCrezM4jPXMHqIY4hLqEgA4VaE4FPDrFmx\nVdtPzGIZxfcWuV03P2NZu01OULMl7m3gGECS/QD7c0v0Ud3q2mFhoj2FGpgNpF5Z\nsQIDAQAB\n-----END PUBLIC KEY-----\n";

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

fn basic_auth(headers: &HeaderMap) -> Option<String> {
    use base64_engine::decode;
    let v = headers.get("authorization")?.to_str().ok()?;
    let encoded = v.strip_prefix("Basic ")?;
    String::from_utf8(decode(encoded)?).ok()
}

/// Enough base64 to read a Basic authorization header.
mod base64_engine {
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = vec![];
        let (mut buf, mut bits) = (0u32, 0);
        for c in s.bytes().filter(|c| *c != b'=') {
            let v = A.iter().position(|a| *a == c)? as u32;
            buf = (buf << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buf >> bits) as u8);
                buf &= (1 << bits) - 1;
            }
        }
        Some(out)
    }
}

/// A message request the Twilio-format server received.
#[derive(Debug, Clone)]
pub struct SmsRequest {
    pub path: String,
    /// `account_sid:auth_token` from the Basic authorization.
    pub auth: Option<String>,
    pub form: HashMap<String, String>,
}

#[derive(Clone)]
struct TwilioState {
    received: Arc<Mutex<Vec<SmsRequest>>>,
    invalid: &'static [&'static str],
    unavailable: Arc<AtomicU32>,
}

/// An SMS API in Twilio's format. Numbers in `invalid` get Twilio's 400 with code 21211;
/// while `unavailable` is above zero each request gets a 503 and counts it down.
pub struct TwilioServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<SmsRequest>>>,
    pub unavailable: Arc<AtomicU32>,
}

impl TwilioServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

pub async fn twilio_server(invalid: &'static [&'static str]) -> TwilioServer {
    let state = TwilioState {
        received: Arc::new(Mutex::new(vec![])),
        invalid,
        unavailable: Arc::new(AtomicU32::new(0)),
    };
    let router = Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(twilio_message),
        )
        .with_state(state.clone());
    TwilioServer {
        addr: serve(router).await,
        received: state.received,
        unavailable: state.unavailable,
    }
}

async fn twilio_message(
    State(s): State<TwilioState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded_pairs(&body);
    let to = form.get("To").cloned().unwrap_or_default();
    s.received.lock().unwrap().push(SmsRequest {
        path: uri.path().to_owned(),
        auth: basic_auth(&headers),
        form,
    });
    if s.unavailable
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"code": 20503, "message": "Service unavailable", "status": 503})),
        )
            .into_response();
    }
    if s.invalid.contains(&to.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 21211, "message": format!("The 'To' number {to} is not a valid phone number."), "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})),
        )
            .into_response();
    }
    (
        StatusCode::CREATED,
        Json(json!({"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": to})),
    )
        .into_response()
}

fn serde_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    url_decode_pairs(std::str::from_utf8(body).unwrap_or(""))
}

fn url_decode_pairs(s: &str) -> HashMap<String, String> {
    let decode = |v: &str| {
        let bytes = v.replace('+', " ").into_bytes();
        let mut out = vec![];
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                if let Ok(b) = u8::from_str_radix(hex, 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8(out).unwrap_or_default()
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A send request the FCM-format server received.
#[derive(Debug, Clone)]
pub struct FcmRequest {
    pub path: String,
    pub bearer: Option<String>,
    pub body: Value,
}

#[derive(Clone)]
struct FcmState {
    received: Arc<Mutex<Vec<FcmRequest>>>,
    grants: Arc<Mutex<Vec<Value>>>,
    issued: Arc<Mutex<Vec<String>>>,
    unregistered: &'static [&'static str],
    unavailable: Arc<AtomicU32>,
    token_uri: Arc<Mutex<String>>,
}

/// FCM HTTP v1 and an OAuth 2 token endpoint (`/token`) on one server. The token endpoint
/// accepts JWT-bearer grants signed with [`TEST_ACCOUNT_KEY`] for its own URL as audience;
/// the send endpoint accepts only access tokens it issued. Device tokens in `unregistered`
/// get 404 `UNREGISTERED`; while `unavailable` is above zero sends get 503 `UNAVAILABLE`.
pub struct FcmServer {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<FcmRequest>>>,
    /// The verified claims of every grant.
    pub grants: Arc<Mutex<Vec<Value>>>,
    pub unavailable: Arc<AtomicU32>,
}

impl FcmServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_uri(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// A service account key file for this server's token endpoint.
    pub fn service_account_json(&self, project: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": project,
            "private_key_id": "test",
            "private_key": TEST_ACCOUNT_KEY,
            "client_email": format!("carebook@{project}.iam.gserviceaccount.com"),
            "token_uri": self.token_uri(),
        })
        .to_string()
    }
}

pub async fn fcm_server(unregistered: &'static [&'static str]) -> FcmServer {
    let state = FcmState {
        received: Arc::new(Mutex::new(vec![])),
        grants: Arc::new(Mutex::new(vec![])),
        issued: Arc::new(Mutex::new(vec![])),
        unregistered,
        unavailable: Arc::new(AtomicU32::new(0)),
        token_uri: Arc::new(Mutex::new(String::new())),
    };
    let router = Router::new()
        .route("/token", post(fcm_token))
        .route("/v1/projects/{project}/messages:send", post(fcm_send))
        .with_state(state.clone());
    let addr = serve(router).await;
    *state.token_uri.lock().unwrap() = format!("http://{addr}/token");
    FcmServer {
        addr,
        received: state.received,
        grants: state.grants,
        unavailable: state.unavailable,
    }
}

async fn fcm_token(State(s): State<FcmState>, body: Bytes) -> Response {
    let form = serde_urlencoded_pairs(&body);
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(TEST_ACCOUNT_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    let aud = s.token_uri.lock().unwrap().clone();
    validation.set_audience(&[aud]);
    // The tests' clock is not the system's: expiry is the client's business here.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "aud", "exp"]);
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    match jsonwebtoken::decode::<Value>(&assertion, &key, &validation) {
        Ok(data) => {
            s.grants.lock().unwrap().push(data.claims);
            let token = format!("ya29.test-{}", s.issued.lock().unwrap().len() + 1);
            s.issued.lock().unwrap().push(token.clone());
            Json(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
                .into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": e.to_string()})),
        )
            .into_response(),
    }
}

fn fcm_error(status: StatusCode, name: &str, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message, "status": name,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}})),
    )
        .into_response()
}

async fn fcm_send(
    State(s): State<FcmState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    s.received.lock().unwrap().push(FcmRequest {
        path: uri.path().to_owned(),
        bearer: bearer.clone(),
        body: body.clone(),
    });
    if !bearer.is_some_and(|b| s.issued.lock().unwrap().contains(&b)) {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "THIRD_PARTY_AUTH_ERROR",
            "Request had invalid authentication credentials.",
        );
    }
    if s.unavailable
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return fcm_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "UNAVAILABLE",
            "The service is currently unavailable.",
        );
    }
    let token = body["message"]["token"].as_str().unwrap_or("");
    if s.unregistered.contains(&token) {
        return fcm_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "UNREGISTERED",
            "Requested entity was not found.",
        );
    }
    let project = uri.path().split('/').nth(3).unwrap_or("");
    Json(
        json!({"name": format!("projects/{project}/messages/0:1500415314455276%31bd1c9631bd1c96")}),
    )
    .into_response()
}

/// A request the webhook receiver got: the signature header, the idempotency key and the
/// raw body, to verify with [`crate::webhook::verify`].
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub signature: Option<String>,
    pub idempotency_key: Option<String>,
    pub body: Vec<u8>,
}

impl WebhookRequest {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone)]
struct HookState {
    received: Arc<Mutex<Vec<WebhookRequest>>>,
    gone: &'static [&'static str],
}

/// A webhook receiver: answers 204, or 410 for push messages to the device tokens in `gone`.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<WebhookRequest>>>,
}

impl WebhookReceiver {
    pub fn url(&self) -> String {
        format!("http://{}/carebook", self.addr)
    }
}

pub async fn webhook_receiver(gone: &'static [&'static str]) -> WebhookReceiver {
    let state = HookState {
        received: Arc::new(Mutex::new(vec![])),
        gone,
    };
    let router = Router::new()
        .route("/carebook", post(hook))
        .with_state(state.clone());
    WebhookReceiver {
        addr: serve(router).await,
        received: state.received,
    }
}

async fn hook(State(s): State<HookState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let req = WebhookRequest {
        signature: header(crate::webhook::SIGNATURE_HEADER),
        idempotency_key: header(crate::webhook::IDEMPOTENCY_HEADER),
        body: body.to_vec(),
    };
    let v = req.json();
    s.received.lock().unwrap().push(req);
    if v["channel"] == "push" && s.gone.contains(&v["to"].as_str().unwrap_or("")) {
        StatusCode::GONE
    } else {
        StatusCode::NO_CONTENT
    }
}
