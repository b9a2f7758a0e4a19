//! Account integrity under an adversary: a stranger who registers with someone else's
//! email or number (never proving it) never gets that person signed in to the stranger's
//! account — by email code, by text code or by Google — and loses the contact when its
//! owner proves it (also a signed-in owner); a reset is never sent through an unproven
//! contact; a signed-in shopper learns whether a contact is taken only after their proof.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{each_app, PASSWORD};

/// A number of the owner's own, for sign-ups the configuration requires a mobile of.
fn own_mobile() -> Value {
    json!({"mobile": {"phone": "9111111111", "country_code": "91"}})
}

fn has_email(user: &Value, email: &str) -> bool {
    user["emails"]
        .as_array()
        .is_some_and(|emails| emails.iter().any(|e| e["email"] == email))
}

fn has_phone(user: &Value, national: &str) -> bool {
    user["phone_numbers"]
        .as_array()
        .is_some_and(|phones| phones.iter().any(|p| p["phone"] == national))
}

#[tokio::test]
async fn an_email_code_never_signs_its_owner_in_to_a_strangers_account() {
    each_app(|app| async move {
        let (stranger, stranger_id) = app.pre_claim("olga@example.com", "9000000001").await;

        let sent = app
            .post(
                "/authentication/v1.0/otp/email/send",
                json!({"email": "olga@example.com", "action": "send"}),
                None,
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let (code, _) = app.code_sent_to("olga@example.com").await;
        let proven = app
            .post(
                "/authentication/v1.0/otp/email/verify",
                json!({"email": "olga@example.com", "otp": code}),
                None,
            )
            .await;
        let owner = app.complete_sign_up(&proven, own_mobile()).await;
        let user = &owner.body["user"];
        assert_ne!(
            user["_id"],
            stranger_id.as_str(),
            "a new account of the owner's"
        );
        assert_eq!(user["emails"][0]["email"], "olga@example.com");
        assert_eq!(user["emails"][0]["verified"], true);
        assert!(
            owner.token.is_some(),
            "the owner is signed in to their own account"
        );

        let seen = app.stranger_sees(&stranger).await;
        assert!(!has_email(&seen, "olga@example.com"), "{seen}");
        assert!(
            has_phone(&seen, "9000000001"),
            "the stranger keeps their own number"
        );
        let by_email = app.login("olga@example.com", PASSWORD).await;
        assert!(
            by_email.token.is_none(),
            "the stranger's password no longer signs in by the owner's email: {}",
            by_email.body
        );
        app.assert_released(&stranger_id).await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_text_code_never_signs_its_owner_in_to_a_strangers_account() {
    each_app(|app| async move {
        let (stranger, stranger_id) = app.pre_claim("stranger@example.com", "9000000002").await;
        let sent = app.login_code("9000000002").await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let (code, _) = app.code_sent_to("+919000000002").await;
        let proven = app
            .verify_mobile(sent.body["request_id"].as_str().unwrap(), &code, None)
            .await;
        let owner = app.complete_sign_up(&proven, json!({})).await;
        let user = &owner.body["user"];
        assert_ne!(user["_id"], stranger_id.as_str());
        assert_eq!(user["phone_numbers"][0]["phone"], "9000000002");
        assert_eq!(user["phone_numbers"][0]["verified"], true);

        let seen = app.stranger_sees(&stranger).await;
        assert!(!has_phone(&seen, "9000000002"), "{seen}");
        assert!(has_email(&seen, "stranger@example.com"));
        let by_phone = app.login("9000000002", PASSWORD).await;
        assert!(by_phone.token.is_none(), "{}", by_phone.body);
        app.assert_released(&stranger_id).await;
        app
    })
    .await;
}

#[tokio::test]
async fn google_never_signs_its_owner_in_to_a_strangers_account() {
    each_app(|app| async move {
        app.enable_social().await;
        let (stranger, stranger_id) = app.pre_claim("gia@example.com", "9000000003").await;
        let google = app.google(&app.id_token(json!({}), false)).await;
        let owner = app.complete_sign_up(&google, own_mobile()).await;
        let user = &owner.body["user"];
        assert_ne!(user["_id"], stranger_id.as_str());
        assert_eq!(user["emails"][0]["email"], "gia@example.com");
        assert_eq!(user["emails"][0]["verified"], true);
        let seen = app.stranger_sees(&stranger).await;
        assert!(!has_email(&seen, "gia@example.com"), "{seen}");
        let again = app.google(&app.id_token(json!({}), false)).await;
        assert_eq!(
            again.body["user_exists"], true,
            "Google is linked to the owner"
        );
        assert_eq!(again.body["user"]["_id"], user["_id"]);
        app.assert_released(&stranger_id).await;
        app
    })
    .await;
}

#[tokio::test]
async fn registering_with_a_contact_held_unproven_elsewhere_asks_for_its_proof() {
    each_app(|app| async move {
        let (stranger, _) = app.pre_claim("olga@example.com", "9000000004").await;
        let body = json!({"first_name": "Olga", "email": "olga@example.com", "password": "An0ther-secret",
                          "phone": {"country_code": "91", "mobile": "9000000005"}, "consent": true});
        let registered = app
            .shop(Method::POST, "/authentication/v1.0/register/form", Some(body), None)
            .await;
        assert_eq!(registered.status, StatusCode::OK, "not refused: {}", registered.body);
        assert_eq!(registered.body["verify_email_otp"], true, "{}", registered.body);
        assert!(registered.token.is_none());
        let register_token = registered.body["register_token"].as_str().unwrap().to_owned();
        let (code, _) = app.code_sent_to("olga@example.com").await;
        let proven = app
            .post(
                "/authentication/v1.0/otp/email/verify",
                json!({"email": "olga@example.com", "otp": code, "register_token": register_token}),
                None,
            )
            .await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        let owner = proven.token.expect("the proven registration signs in");
        let (_, me, _) = app.whoami(&owner).await;
        assert_eq!(me["user"]["emails"][0]["email"], "olga@example.com");
        assert_eq!(me["user"]["emails"][0]["verified"], true);
        let seen = app.stranger_sees(&stranger).await;
        assert!(!has_email(&seen, "olga@example.com"), "{seen}");

        let taken = app.register("olga@example.com", "9000000006").await;
        assert_eq!(
            taken.body["code"], "EMAIL_ALREADY_EXISTS",
            "a proven email is taken: {}",
            taken.body
        );
        app
    })
    .await;
}

#[tokio::test]
async fn no_reset_goes_through_a_contact_its_holder_never_proved() {
    each_app(|app| async move {
        app.pre_claim("olga@example.com", "9000000007").await;
        let before = app.messages_to("olga@example.com").await;
        let link = app
            .post(
                "/authentication/v1.0/login/password/reset",
                json!({"email": "olga@example.com"}),
                None,
            )
            .await;
        assert_eq!(link.status, StatusCode::OK, "{}", link.body);
        let code = app
            .post(
                "/authentication/v1.0/otp/forgot/email/send",
                json!({"email": "olga@example.com", "action": "send"}),
                None,
            )
            .await;
        assert_eq!(code.status, StatusCode::OK, "{}", code.body);
        assert_eq!(
            app.messages_to("olga@example.com").await,
            before,
            "neither a reset link nor a reset code went to the unproven email"
        );
        app
    })
    .await;
}

#[tokio::test]
async fn a_signed_in_shopper_who_proves_an_email_held_unproven_elsewhere_takes_it() {
    each_app(|app| async move {
        let (stranger, stranger_id) = app.pre_claim("olga@example.com", "9000000008").await;
        let owner = app.register("owner@example.com", "9000000009").await;
        let owner = owner.token.unwrap();
        let sent = app
            .post(
                "/authentication/v1.0/otp/email/send",
                json!({"email": "olga@example.com", "action": "send"}),
                Some(&owner),
            )
            .await;
        assert_eq!(
            sent.status,
            StatusCode::OK,
            "not refused as taken: {}",
            sent.body
        );
        let (code, _) = app.code_sent_to("olga@example.com").await;
        let proven = app
            .post(
                "/authentication/v1.0/otp/email/verify",
                json!({"email": "olga@example.com", "otp": code}),
                Some(&owner),
            )
            .await;
        assert_eq!(proven.status, StatusCode::OK, "{}", proven.body);
        let (_, me, _) = app.whoami(&owner).await;
        let entry = me["user"]["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["email"] == "olga@example.com")
            .cloned()
            .expect("the owner holds the email");
        assert_eq!(entry["verified"], true);
        let seen = app.stranger_sees(&stranger).await;
        assert!(!has_email(&seen, "olga@example.com"), "{seen}");
        app.assert_released(&stranger_id).await;
        app
    })
    .await;
}

#[tokio::test]
async fn a_signed_in_shopper_learns_whether_a_contact_is_taken_only_after_their_own_proof() {
    each_app(|app| async move {
        app.register_proven("olga@example.com", "9000000011").await;
        let prober = app.register("prober@example.com", "9000000012").await;
        let prober = prober.token.unwrap();
        let probe = app
            .post(
                "/profile/v2.0/email/otp/send",
                json!({"request_id": "not-a-proof", "email": "olga@example.com"}),
                Some(&prober),
            )
            .await;
        assert_eq!(
            probe.body["meta"]["field"], "request_id",
            "the missing proof is refused before anything is said of the email: {}",
            probe.body
        );
        app
    })
    .await;
}
