//! Identity stories end to end: sign-in, lockout, refresh rotation and reuse detection,
//! logout, password reset, email verification, self-registration, MFA and deactivation.

use crate::helpers::*;
use axum::http::Method;
use carebook_domain::{Role, totp};
use carebook_store::testing::TestDb;
use jiff::SignedDuration;
use serde_json::json;

async fn login_and_lockout(db: &TestDb) {
    let app = TestApp::new(db).await;
    let u = app.user(Role::Receptionist, Some(app.clinic.id)).await;

    let ok = app.login(&u.email.to_uppercase(), PASSWORD).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["user"]["email"], u.email.as_str());
    let me = app
        .get("/api/v1/me", ok.body["access_token"].as_str())
        .await;
    assert_eq!(me.status, 200);
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "users.read")
    );
    assert!(app.get_user(u.id).await.last_login_at.is_some());

    let unknown = app.login("nobody@example.org", PASSWORD).await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.code()),
        (401, "invalid_credentials")
    );

    for i in 1..=4 {
        let r = app.login(&u.email, "wrong password!").await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "invalid_credentials"),
            "attempt {i}"
        );
    }
    assert_eq!(app.get_user(u.id).await.failed_login_attempts, 4);
    let fifth = app.login(&u.email, "wrong password!").await;
    assert_eq!(
        (fifth.status.as_u16(), fifth.code()),
        (423, "account_locked")
    );
    assert!(fifth.headers.get("retry-after").is_some());
    let right_but_locked = app.login(&u.email, PASSWORD).await;
    assert_eq!(
        right_but_locked.code(),
        "account_locked",
        "the right password does not open a locked account"
    );

    app.clock.advance(SignedDuration::from_mins(15));
    let after = app.login(&u.email, PASSWORD).await;
    assert_eq!(after.status, 200, "the lock expires");
    assert_eq!(
        app.get_user(u.id).await.failed_login_attempts,
        0,
        "success resets the count"
    );

    let actions = app.audit_actions().await;
    assert_eq!(actions.iter().filter(|a| *a == "auth.login").count(), 2);
    assert_eq!(
        actions.iter().filter(|a| *a == "auth.login_failed").count(),
        7,
        "unknown, 5 wrong, 1 while locked"
    );
}

async fn refresh_rotates_and_reuse_revokes_the_family(db: &TestDb) {
    let app = TestApp::new(db).await;
    let u = app.user(Role::Provider, Some(app.clinic.id)).await;
    let first = app.login(&u.email, PASSWORD).await.body;
    let r1 = first["refresh_token"].as_str().unwrap().to_owned();

    let second = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(second.status, 200);
    let r2 = second.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated on every use");
    assert_eq!(
        app.get("/api/v1/me", second.body["access_token"].as_str())
            .await
            .status,
        200
    );

    let reuse = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(
        (reuse.status.as_u16(), reuse.code()),
        (401, "refresh_token_reused")
    );
    let after = app
        .post("/api/v1/auth/refresh", None, json!({"refresh_token": r2}))
        .await;
    assert_eq!(
        (after.status.as_u16(), after.code()),
        (401, "invalid_refresh_token"),
        "the whole family is revoked"
    );

    // A separate session is untouched, and logout ends it.
    let other = app.login(&u.email, PASSWORD).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.post("/api/v1/auth/logout", None, json!({"refresh_token": other}))
            .await
            .status,
        204
    );
    assert_eq!(
        app.post("/api/v1/auth/logout", None, json!({"refresh_token": other}))
            .await
            .status,
        204,
        "idempotent"
    );
    let gone = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": other}),
        )
        .await;
    assert_eq!(gone.code(), "invalid_refresh_token");

    // Expiry is on the injected clock.
    let late = app.login(&u.email, PASSWORD).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(SignedDuration::from_hours(24 * 31));
    assert_eq!(
        app.post("/api/v1/auth/refresh", None, json!({"refresh_token": late}))
            .await
            .code(),
        "invalid_refresh_token"
    );
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"auth.refresh_reuse".to_owned()));
    assert!(actions.contains(&"auth.logout".to_owned()));
}

async fn access_tokens_expire_on_the_clock(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, token) = app.signed_in(Role::Admin).await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, 200);
    app.clock.advance(SignedDuration::from_mins(15));
    let r = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "unauthenticated"));
    assert_eq!(
        app.get("/api/v1/me", Some("garbage")).await.code(),
        "unauthenticated"
    );
}

fn link_token(body: &str) -> String {
    let start = body.find("token=").expect("a link with a token") + 6;
    body[start..].split_whitespace().next().unwrap().to_owned()
}

async fn password_reset_through_the_outbox(db: &TestDb) {
    let app = TestApp::new(db).await;
    let mut u = app.user(Role::Receptionist, Some(app.clinic.id)).await;
    u.failed_login_attempts = 0;
    u.locked_until = Some(app.now() + SignedDuration::from_mins(10));
    app.update(&u).await;
    let session = app.refresh_token(&u).await;

    let unknown = app
        .post(
            "/api/v1/auth/password-reset/request",
            None,
            json!({"email": "nobody@example.org"}),
        )
        .await;
    let known = app
        .post(
            "/api/v1/auth/password-reset/request",
            None,
            json!({"email": u.email}),
        )
        .await;
    assert_eq!(unknown.status, 202);
    assert_eq!(known.status, 202);
    assert_eq!(
        unknown.body, known.body,
        "the answer does not reveal who has an account"
    );

    let outbox = app.outbox(u.id).await;
    assert_eq!(outbox.len(), 1);
    let mail = &outbox[0];
    assert_eq!(
        (
            mail.kind.as_str(),
            mail.channel.as_str(),
            mail.status.as_str()
        ),
        ("password_reset", "email", "pending")
    );
    assert_eq!(mail.destination.as_deref(), Some(u.email.as_str()));
    assert!(
        mail.body
            .contains("https://carebook.test/reset-password?token=")
    );
    let token = link_token(&mail.body);

    let weak = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "short"}),
        )
        .await;
    assert_eq!(
        (weak.status.as_u16(), weak.code()),
        (422, "validation_failed")
    );
    assert_eq!(
        weak.body["error"]["details"]["fields"][0]["field"],
        "new_password"
    );

    let done = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "a brand new password"}),
        )
        .await;
    assert_eq!(done.status, 204, "{}", done.body);
    let again = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": token, "new_password": "another new password"}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (400, "invalid_or_expired_token"),
        "single use"
    );

    assert_eq!(
        app.login(&u.email, PASSWORD).await.code(),
        "invalid_credentials"
    );
    assert_eq!(
        app.login(&u.email, "a brand new password").await.status,
        200,
        "new password works and the lock is lifted"
    );
    let old_session = app
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": session}),
        )
        .await;
    assert_eq!(
        old_session.code(),
        "invalid_refresh_token",
        "a reset signs out every session"
    );

    // Expired links are refused.
    app.post(
        "/api/v1/auth/password-reset/request",
        None,
        json!({"email": u.email}),
    )
    .await;
    let late = link_token(&app.outbox(u.id).await.last().unwrap().body);
    app.clock.advance(SignedDuration::from_mins(61));
    let expired = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": late, "new_password": "yet another password"}),
        )
        .await;
    assert_eq!(expired.code(), "invalid_or_expired_token");
}

async fn self_registration_and_email_verification(db: &TestDb) {
    let app = TestApp::new(db).await;
    let body = json!({"clinic": app.clinic.slug, "name": "Achieng Otieno", "email": "Achieng@Example.org", "password": PASSWORD,
        "phone": "+254 712 345 678", "date_of_birth": "1990-05-17", "preferred_language": "sw"});
    let r = app.post("/api/v1/auth/register", None, body.clone()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["role"], "patient");
    assert_eq!(r.body["email"], "achieng@example.org");
    assert_eq!(r.body["phone"], "+254712345678");
    assert_eq!(r.body["email_verified"], false);
    let id: uuid::Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
    let patient = app
        .store
        .read()
        .await
        .unwrap()
        .get_patient_by_user(id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patient.preferred_language, "sw");
    assert_eq!(
        app.store
            .read()
            .await
            .unwrap()
            .patient_clinic_ids(patient.id)
            .await
            .unwrap(),
        vec![app.clinic.id]
    );

    let dup = app.post("/api/v1/auth/register", None, body).await;
    assert_eq!((dup.status.as_u16(), dup.code()), (409, "email_taken"));

    let closed = app.post("/api/v1/auth/register", None, json!({"clinic": app.other_clinic.slug, "name": "X Y", "email": "x@example.org", "password": PASSWORD})).await;
    assert_eq!(
        (closed.status.as_u16(), closed.code()),
        (403, "self_registration_disabled")
    );
    let nowhere = app.post("/api/v1/auth/register", None, json!({"clinic": "no-such-clinic", "name": "X Y", "email": "x@example.org", "password": PASSWORD})).await;
    assert_eq!(nowhere.status, 404);
    let bad = app.post("/api/v1/auth/register", None, json!({"clinic": app.clinic.slug, "name": " ", "email": "nope", "password": "short", "phone": "abc"})).await;
    assert_eq!(bad.code(), "validation_failed");
    let fields: Vec<&str> = bad.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["name", "email", "password", "phone"],
        "every problem at once"
    );

    let mail = app.outbox(id).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].kind, "email_verification");
    let token = link_token(&mail[0].body);
    assert_eq!(
        app.post(
            "/api/v1/auth/email-verification/confirm",
            None,
            json!({"token": token})
        )
        .await
        .status,
        204
    );
    assert!(app.get_user(id).await.email_verified_at.is_some());
    assert_eq!(
        app.post(
            "/api/v1/auth/email-verification/confirm",
            None,
            json!({"token": token})
        )
        .await
        .code(),
        "invalid_or_expired_token"
    );

    let login = app.login("achieng@example.org", PASSWORD).await;
    let t = login.body["access_token"].as_str().unwrap().to_owned();
    let again = app
        .call(
            Method::POST,
            "/api/v1/me/email-verification",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (409, "invalid_state"),
        "already verified"
    );
}

async fn mfa_enrol_sign_in_recover_disable(db: &TestDb) {
    let app = TestApp::new(db).await;
    let u = app.user(Role::Admin, Some(app.clinic.id)).await;
    let t = app.token(&u);
    let enrol = app
        .call(Method::POST, "/api/v1/me/mfa/enroll", Some(&t), None)
        .await;
    assert_eq!(enrol.status, 200);
    assert!(
        enrol.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/Carebook:")
    );
    let secret = totp::decode_secret(enrol.body["secret"].as_str().unwrap()).unwrap();
    assert_eq!(
        app.login(&u.email, PASSWORD).await.status,
        200,
        "not required until confirmed"
    );

    let wrong = app
        .post(
            "/api/v1/me/mfa/confirm",
            Some(&t),
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(wrong.code(), "validation_failed");
    let confirm = app
        .post(
            "/api/v1/me/mfa/confirm",
            Some(&t),
            json!({"code": totp::code_now(&secret, app.now())}),
        )
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let codes: Vec<String> = confirm.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);

    let need = app.login(&u.email, PASSWORD).await;
    assert_eq!((need.status.as_u16(), need.code()), (401, "mfa_required"));
    app.clock.advance(SignedDuration::from_secs(30));
    let code = totp::code_now(&secret, app.now());
    let with_code = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": u.email, "password": PASSWORD, "mfa_code": code}),
        )
        .await;
    assert_eq!(with_code.status, 200, "{}", with_code.body);
    let replay = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": u.email, "password": PASSWORD, "mfa_code": code}),
        )
        .await;
    assert_eq!(
        replay.code(),
        "invalid_mfa_code",
        "a code is never accepted twice"
    );

    let recovery = codes[0].to_uppercase();
    let rec = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": u.email, "password": PASSWORD, "mfa_code": recovery}),
        )
        .await;
    assert_eq!(rec.status, 200, "recovery codes work, in any case");
    let rec_again = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": u.email, "password": PASSWORD, "mfa_code": codes[0]}),
        )
        .await;
    assert_eq!(rec_again.code(), "invalid_mfa_code", "once");

    // Failed codes count towards the lockout. The recovery sign-in reset the count, so one
    // failure stands (the second use of the recovery code); four more lock the account.
    assert_eq!(app.get_user(u.id).await.failed_login_attempts, 1);
    for _ in 0..3 {
        let r = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": u.email, "password": PASSWORD, "mfa_code": "999999"}),
            )
            .await;
        assert_eq!(r.code(), "invalid_mfa_code");
    }
    let locking = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": u.email, "password": PASSWORD, "mfa_code": "999999"}),
        )
        .await;
    assert_eq!(locking.code(), "account_locked");
    app.clock.advance(SignedDuration::from_mins(15));

    let off = app
        .post(
            "/api/v1/me/mfa/disable",
            Some(&app.token(&u)),
            json!({"code": codes[1]}),
        )
        .await;
    assert_eq!(off.status, 204);
    assert_eq!(
        app.login(&u.email, PASSWORD).await.status,
        200,
        "no code needed any more"
    );
    assert!(app.get_user(u.id).await.mfa_secret.is_none());
}

async fn deactivation_ends_access(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let u = app.user(Role::Receptionist, Some(app.clinic.id)).await;
    let session = app.refresh_token(&u).await;
    let token = app.token(&u);
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/deactivate", u.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["is_active"], false);
    let denied = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(
        (denied.status.as_u16(), denied.code()),
        (403, "account_inactive"),
        "takes effect at once"
    );
    assert_eq!(
        app.login(&u.email, PASSWORD).await.code(),
        "account_inactive"
    );
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": session})
        )
        .await
        .code(),
        "invalid_refresh_token"
    );
    let listed = app.get("/api/v1/users", Some(&admin)).await;
    assert!(
        !listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == u.id.to_string()),
        "hidden by default"
    );
    let with_inactive = app
        .get("/api/v1/users?include_inactive=true", Some(&admin))
        .await;
    assert!(
        with_inactive.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == u.id.to_string())
    );

    let back = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/reactivate", u.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(back.body["is_active"], true);
    assert_eq!(app.login(&u.email, PASSWORD).await.status, 200);
    let admin_id: uuid::Uuid = app.get("/api/v1/me", Some(&admin)).await.body["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let own = app
        .call(
            Method::POST,
            &format!("/api/v1/users/{}/deactivate", admin_id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(own.code(), "invalid_state", "nobody locks themselves out");
}

async fn staff_creation_and_privilege_ceiling(db: &TestDb) {
    let app = TestApp::new(db).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let made = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "nurse@example.org", "name": "Nurse Joy", "role": "provider"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        made.body["clinic_id"],
        app.clinic.id.to_string(),
        "defaults to the creator's clinic"
    );
    let id: uuid::Uuid = made.body["id"].as_str().unwrap().parse().unwrap();
    let mail = app.outbox(id).await;
    assert_eq!(
        mail[0].kind, "password_reset",
        "no password given: the new user gets a link to set one"
    );

    let up = app.post("/api/v1/users", Some(&admin), json!({"email": "boss@example.org", "name": "Boss", "role": "super_admin", "password": PASSWORD})).await;
    assert_eq!(up.status, 403, "an admin cannot create a super admin");
    let patient = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "p@example.org", "name": "P", "role": "patient", "password": PASSWORD}),
        )
        .await;
    assert_eq!(patient.code(), "validation_failed");
    let dup = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "NURSE@example.org", "name": "Again", "role": "provider"}),
        )
        .await;
    assert_eq!(dup.code(), "email_taken");
    let promote = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"role": "super_admin"})),
        )
        .await;
    assert_eq!(promote.status, 403);
    let super_admin = app.user(Role::SuperAdmin, None).await;
    let touch = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{}", super_admin.id),
            Some(&admin),
            Some(json!({"name": "Hacked"})),
        )
        .await;
    assert_eq!(
        touch.status, 404,
        "a network account is not visible to a clinic admin"
    );
    let ok = app
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            Some(json!({"role": "receptionist", "phone": null, "name": "Joy N."})),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        (ok.body["role"].as_str(), ok.body["name"].as_str()),
        (Some("receptionist"), Some("Joy N."))
    );

    let (_, sa) = app.signed_in(Role::SuperAdmin).await;
    let net = app.post("/api/v1/users", Some(&sa), json!({"email": "net@example.org", "name": "Network Admin", "role": "admin", "password": PASSWORD})).await;
    assert_eq!(net.status, 201);
    assert_eq!(net.body["clinic_id"], serde_json::Value::Null);
    let bad_clinic = app.post("/api/v1/users", Some(&sa), json!({"email": "x@example.org", "name": "X", "role": "admin", "clinic_id": uuid::Uuid::now_v7()})).await;
    assert_eq!(bad_clinic.code(), "validation_failed");
}

carebook_store::both_backends! {
    login_lockout => login_and_lockout,
    refresh_rotation => refresh_rotates_and_reuse_revokes_the_family,
    access_expiry => access_tokens_expire_on_the_clock,
    password_reset => password_reset_through_the_outbox,
    registration => self_registration_and_email_verification,
    mfa => mfa_enrol_sign_in_recover_disable,
    deactivation => deactivation_ends_access,
    staff_creation => staff_creation_and_privilege_ceiling,
}
