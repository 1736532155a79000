//! Checks of the free-text and money fields that many request bodies share, each collecting
//! its problem into the request's list so a client hears of every bad field at once.

use carebook_domain::ValidationError;

/// One line of at most `max` printable characters, trimmed; empty becomes `None`.
pub fn line(
    field: &'static str,
    v: Option<String>,
    max: usize,
    errors: &mut Vec<ValidationError>,
) -> Option<String> {
    checked(field, v, max, false, errors)
}

/// Free text of at most `max` characters (line breaks allowed), trimmed; empty becomes `None`.
pub fn text(
    field: &'static str,
    v: Option<String>,
    max: usize,
    errors: &mut Vec<ValidationError>,
) -> Option<String> {
    checked(field, v, max, true, errors)
}

fn checked(
    field: &'static str,
    v: Option<String>,
    max: usize,
    multiline: bool,
    errors: &mut Vec<ValidationError>,
) -> Option<String> {
    let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())?;
    let bad = |c: char| c.is_control() && !(multiline && c == '\n');
    if v.chars().count() > max || v.chars().any(bad) {
        errors.push(ValidationError::new(
            field,
            format!("must be at most {max} printable characters"),
        ));
        return None;
    }
    Some(v)
}

/// A required name of 1-`max` printable characters.
pub fn name(field: &'static str, v: &str, max: usize, errors: &mut Vec<ValidationError>) -> String {
    let v = v.trim().to_owned();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        errors.push(ValidationError::new(
            field,
            format!("must be 1-{max} printable characters"),
        ));
    }
    v
}

/// An ISO 4217 code, upper-cased.
pub fn currency(field: &'static str, v: &str, errors: &mut Vec<ValidationError>) -> String {
    let v = v.trim().to_uppercase();
    if v.len() != 3 || !v.chars().all(|c| c.is_ascii_uppercase()) {
        errors.push(ValidationError::new(
            field,
            "must be an ISO 4217 code such as KES or USD",
        ));
    }
    v
}

/// A fee in minor units with its currency; the currency defaults to `default`.
pub fn money(
    fee: Option<i64>,
    cur: Option<&str>,
    default: &str,
    errors: &mut Vec<ValidationError>,
) -> (Option<i64>, Option<String>) {
    match fee {
        None => (None, None),
        Some(f) if f < 0 => {
            errors.push(ValidationError::new("fee_minor", "must not be negative"));
            (None, None)
        }
        Some(f) => (
            Some(f),
            Some(currency("currency", cur.unwrap_or(default), errors)),
        ),
    }
}

/// A list of short labels: trimmed, non-empty, each once, at most 50 of 100 characters.
pub fn labels(
    field: &'static str,
    items: Vec<String>,
    errors: &mut Vec<ValidationError>,
) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for item in items {
        let item = item.trim().to_owned();
        if item.is_empty() || item.chars().count() > 100 || item.chars().any(char::is_control) {
            errors.push(ValidationError::new(
                field,
                "each entry must be 1-100 printable characters",
            ));
        } else if !out.contains(&item) {
            out.push(item);
        }
    }
    if out.len() > 50 {
        errors.push(ValidationError::new(field, "at most 50 entries"));
    }
    out
}
