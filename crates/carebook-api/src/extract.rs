//! Extractors whose rejections are [`ApiError`]s, so a malformed body, a wrong type, an unknown
//! enum value or a bad UUID gets the same JSON error shape as every other failure.

use crate::error::{ApiError, Code};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON body. Unknown fields are refused by the request types (`deny_unknown_fields`).
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::new(Code::InvalidBody, clean(&e.body_text())),
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(Code::MalformedJson, clean(&e.body_text()))
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            Code::UnsupportedMediaType,
            "expected a body with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) => {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Code::PayloadTooLarge, "request body too large")
            } else {
                ApiError::new(Code::MalformedJson, "the request body could not be read")
            }
        }
        other => ApiError::new(Code::MalformedJson, clean(&other.body_text())),
    }
}

/// serde's messages are useful but start with axum's prefix; keep the helpful part.
fn clean(s: &str) -> String {
    s.trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        .trim_start_matches("Failed to parse the request body as JSON: ")
        .to_owned()
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query-string parameters.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // No text a person types holds a NUL character, and PostgreSQL cannot store one.
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError::new(
                Code::InvalidParameter,
                "query parameters must not contain NUL characters",
            ));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::new(
                Code::InvalidParameter,
                e.body_text()
                    .trim_start_matches("Failed to deserialize query string: ")
                    .to_owned(),
            )),
            Err(e) => Err(ApiError::new(Code::InvalidParameter, e.body_text())),
        }
    }
}

/// Path parameters (a malformed UUID is a 400, not a 404 or 500).
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => Err(ApiError::new(
                Code::InvalidParameter,
                e.body_text().trim_start_matches("Invalid URL: ").to_owned(),
            )),
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}
