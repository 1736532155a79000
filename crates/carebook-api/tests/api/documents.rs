//! The generated documents stay true: the OpenAPI description matches the committed copy and
//! the access table, and the error code table in docs/ matches the code.

use carebook_api::access::{ROUTES, is_docs_path};
use carebook_api::openapi::documented_routes;
use std::path::PathBuf;

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Compares `actual` with the committed file; `CAREBOOK_UPDATE_DOCS=1` rewrites it.
fn snapshot(rel: &str, actual: &str) {
    let path = repo_file(rel);
    if std::env::var_os("CAREBOOK_UPDATE_DOCS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == actual,
        "{rel} is out of date with the code; run `CAREBOOK_UPDATE_DOCS=1 cargo test -p carebook-api --test api documents` and review the diff"
    );
}

#[test]
fn the_access_table_and_the_openapi_document_list_the_same_routes() {
    let api = carebook_api::openapi();
    let mut documented = documented_routes(&api);
    documented.sort();
    let mut table: Vec<(String, String)> = ROUTES
        .iter()
        .filter(|r| r.path != "/api/openapi.json" && !is_docs_path(r.path))
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    table.sort();
    assert_eq!(documented, table);
    let mut unique = table.clone();
    unique.dedup();
    assert_eq!(unique.len(), table.len(), "one rule per route");
}

#[test]
fn every_protected_operation_declares_bearer_security_and_errors() {
    let api = serde_json::to_value(carebook_api::openapi()).unwrap();
    assert_eq!(api["openapi"], "3.1.0");
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"]["default"].is_object(),
                "{method} {path} documents its errors"
            );
            let route = ROUTES
                .iter()
                .find(|r| r.method.as_str().eq_ignore_ascii_case(method) && r.path == path)
                .unwrap();
            let secured = op.get("security").is_some();
            assert_eq!(
                secured,
                route.access != carebook_domain::Access::Public,
                "{method} {path}"
            );
        }
    }
}

#[test]
fn openapi_snapshot() {
    let json = serde_json::to_string_pretty(&carebook_api::openapi()).unwrap() + "\n";
    snapshot("docs/openapi.json", &json);
}

#[test]
fn error_code_table_in_docs_is_current() {
    let doc = std::fs::read_to_string(repo_file("docs/api-errors.md")).unwrap_or_default();
    let table = carebook_api::error::code_table_markdown();
    if std::env::var_os("CAREBOOK_UPDATE_DOCS").is_some() && !doc.contains(&table) {
        let start = doc.find("| code |").unwrap();
        let end = doc[start..]
            .find("\n\n")
            .map(|e| start + e + 1)
            .unwrap_or(doc.len());
        std::fs::write(
            repo_file("docs/api-errors.md"),
            format!("{}{}{}", &doc[..start], table, &doc[end..]),
        )
        .unwrap();
        return;
    }
    assert!(
        doc.contains(&table),
        "docs/api-errors.md does not hold the current code table; see error_code_table_in_docs_is_current"
    );
}
