//! OAuth tokens: lookup by digest, expiry, single-use rotation, replay detection, and the
//! admin operations on clients and applications.

use chrono::Duration;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::phone::Region;
use patron_domain::scope::Scope;
use patron_store::{ApiClient, Application, Rotation, TokenGrant, TokenKind};

use crate::{each_backend, t0, Fixture};

async fn client(f: &Fixture) -> ApiClient {
    let client = ApiClient {
        client_id: "client-1".into(),
        company_id: CompanyId::parse("559").unwrap(),
        name: "test".into(),
        secret_digest: "digest".into(),
        scopes: vec![Scope::CustomersRead, Scope::CustomersWrite],
        created_at: t0(),
    };
    f.stores.clients.create_client(&client).await.unwrap();
    client
}

fn grant(digest: &str, kind: TokenKind, scopes: Vec<Scope>, ttl: Duration) -> TokenGrant {
    TokenGrant {
        digest: digest.into(),
        kind,
        client_id: "client-1".into(),
        company_id: CompanyId::parse("559").unwrap(),
        scopes,
        family_id: "family-1".into(),
        created_at: t0(),
        expires_at: t0() + ttl,
    }
}

/// Fresh access and refresh tokens `a-{n}` and `r-{n}` given `scopes`, as a rotation
/// offers them.
fn replacements(n: usize, scopes: &[Scope]) -> [TokenGrant; 2] {
    let fresh = |kind, ttl| TokenGrant {
        family_id: format!("new-{n}"),
        ..grant(
            &format!("{}-{n}", if kind == TokenKind::Access { "a" } else { "r" }),
            kind,
            scopes.to_vec(),
            ttl,
        )
    };
    [
        fresh(TokenKind::Access, Duration::hours(1)),
        fresh(TokenKind::Refresh, Duration::days(30)),
    ]
}

async fn live(f: &Fixture, digest: &str, kind: TokenKind) -> Option<TokenGrant> {
    f.stores
        .tokens
        .find_token(digest, kind, t0())
        .await
        .unwrap()
}

#[tokio::test]
async fn clients_read_back() {
    each_backend(|f| async move {
        let created = client(&f).await;
        assert_eq!(
            f.stores.clients.find_client("client-1").await.unwrap(),
            Some(created)
        );
        assert_eq!(f.stores.clients.find_client("nope").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn tokens_expire() {
    each_backend(|f| async move {
        client(&f).await;
        f.stores
            .tokens
            .insert_tokens(&[grant(
                "a1",
                TokenKind::Access,
                vec![Scope::CustomersRead],
                Duration::hours(1),
            )])
            .await
            .unwrap();
        let found = f
            .stores
            .tokens
            .find_token("a1", TokenKind::Access, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.scopes, vec![Scope::CustomersRead]);
        assert!(
            f.stores
                .tokens
                .find_token("a1", TokenKind::Refresh, t0())
                .await
                .unwrap()
                .is_none(),
            "kind must match"
        );
        assert!(f
            .stores
            .tokens
            .find_token("a1", TokenKind::Access, t0() + Duration::hours(1))
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            f.stores
                .tokens
                .purge_expired_tokens(t0() + Duration::hours(2))
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_a_replay_revokes_the_family() {
    each_backend(|f| async move {
        client(&f).await;
        let scopes = vec![Scope::CustomersRead, Scope::CustomersWrite];
        f.stores
            .tokens
            .insert_tokens(&[
                grant("a0", TokenKind::Access, scopes.clone(), Duration::hours(1)),
                grant("r0", TokenKind::Refresh, scopes.clone(), Duration::days(30)),
            ])
            .await
            .unwrap();
        // The client now has only the read scope: the replacements keep only that.
        let rotated = f
            .stores
            .tokens
            .rotate_refresh_token(
                "r0",
                "client-1",
                &replacements(1, &[Scope::CustomersRead]),
                t0(),
            )
            .await
            .unwrap();
        assert!(matches!(rotated, Rotation::Rotated(ref spent) if spent.scopes == scopes));
        let access = live(&f, "a-1", TokenKind::Access).await.unwrap();
        assert_eq!(access.scopes, vec![Scope::CustomersRead], "{:?}", f.backend);
        assert_eq!(access.family_id, "family-1", "replacements join the family");
        assert!(live(&f, "r0", TokenKind::Refresh).await.is_none(), "spent");

        let wrong_client = f
            .stores
            .tokens
            .rotate_refresh_token("r-1", "other", &replacements(2, &scopes), t0())
            .await
            .unwrap();
        assert_eq!(wrong_client, Rotation::Invalid);
        assert!(live(&f, "a-1", TokenKind::Access).await.is_some());

        // The spent token again: every token of the family goes, access tokens included.
        let replay = f
            .stores
            .tokens
            .rotate_refresh_token("r0", "client-1", &replacements(3, &scopes), t0())
            .await
            .unwrap();
        assert_eq!(replay, Rotation::Replayed);
        for (digest, kind) in [
            ("a0", TokenKind::Access),
            ("a-1", TokenKind::Access),
            ("r-1", TokenKind::Refresh),
            ("a-3", TokenKind::Access),
        ] {
            assert!(live(&f, digest, kind).await.is_none(), "{digest} revoked");
        }
        let unknown = f
            .stores
            .tokens
            .rotate_refresh_token("r-1", "client-1", &replacements(4, &scopes), t0())
            .await
            .unwrap();
        assert_eq!(unknown, Rotation::Invalid);
    })
    .await;
}

#[tokio::test]
async fn concurrent_uses_of_one_refresh_token_rotate_once_then_count_as_replays() {
    each_backend(|f| async move {
        client(&f).await;
        let scopes = vec![Scope::CustomersWrite];
        f.stores
            .tokens
            .insert_tokens(&[grant(
                "r1",
                TokenKind::Refresh,
                scopes.clone(),
                Duration::days(30),
            )])
            .await
            .unwrap();
        let attempts: Vec<_> = (0..6)
            .map(|i| {
                let stores = f.stores.clone();
                let scopes = scopes.clone();
                tokio::spawn(async move {
                    stores
                        .tokens
                        .rotate_refresh_token("r1", "client-1", &replacements(i, &scopes), t0())
                        .await
                        .unwrap()
                })
            })
            .collect();
        let (mut rotated, mut replayed) = (0, 0);
        for attempt in attempts {
            match attempt.await.unwrap() {
                Rotation::Rotated(_) => rotated += 1,
                Rotation::Replayed => replayed += 1,
                // Once a replay has revoked the family the token is simply unknown.
                Rotation::Invalid => {}
            }
        }
        assert_eq!(rotated, 1, "exactly one rotation wins ({:?})", f.backend);
        assert!(replayed >= 1, "the next use is a replay");
        for i in 0..6 {
            assert!(live(&f, &format!("a-{i}"), TokenKind::Access)
                .await
                .is_none());
        }
    })
    .await;
}

#[tokio::test]
async fn revoked_clients_lose_their_tokens_and_narrowed_ones_their_access_tokens() {
    each_backend(|f| async move {
        client(&f).await;
        let scopes = vec![Scope::CustomersRead, Scope::CustomersWrite];
        f.stores
            .tokens
            .insert_tokens(&[
                grant("a0", TokenKind::Access, scopes.clone(), Duration::hours(1)),
                grant("r0", TokenKind::Refresh, scopes.clone(), Duration::days(30)),
            ])
            .await
            .unwrap();
        let clients = &f.stores.clients;
        assert!(clients
            .set_client_scopes("client-1", &[Scope::CustomersRead])
            .await
            .unwrap());
        assert_eq!(
            clients
                .find_client("client-1")
                .await
                .unwrap()
                .unwrap()
                .scopes,
            vec![Scope::CustomersRead]
        );
        assert!(live(&f, "a0", TokenKind::Access).await.is_none());
        assert!(live(&f, "r0", TokenKind::Refresh).await.is_some());
        assert!(!clients.set_client_scopes("nope", &scopes).await.unwrap());

        assert!(clients.revoke_client("client-1").await.unwrap());
        assert!(clients.find_client("client-1").await.unwrap().is_none());
        assert!(live(&f, "r0", TokenKind::Refresh).await.is_none());
        assert!(!clients.revoke_client("client-1").await.unwrap());

        let applications = &f.stores.applications;
        assert!(applications
            .set_application_token(&f.application, "new-digest")
            .await
            .unwrap());
        let application = applications.find_application(&f.application).await.unwrap();
        assert_eq!(application.unwrap().token_digest, "new-digest");
    })
    .await;
}

#[tokio::test]
async fn console_sessions_name_their_client_until_they_end_expire_or_the_client_goes() {
    each_backend(|f| async move {
        let created = client(&f).await;
        let tokens = &f.stores.tokens;
        for digest in ["s1", "s2", "s3"] {
            tokens
                .start_console_session(digest, "client-1", t0(), t0() + Duration::hours(8))
                .await
                .unwrap();
        }
        assert_eq!(
            tokens.find_console_session("s1", t0()).await.unwrap(),
            Some(created)
        );
        assert_eq!(
            tokens.find_console_session("nope", t0()).await.unwrap(),
            None
        );

        assert!(tokens.end_console_session("s1").await.unwrap());
        assert!(!tokens.end_console_session("s1").await.unwrap());
        assert_eq!(tokens.find_console_session("s1", t0()).await.unwrap(), None);
        assert!(tokens
            .find_console_session("s2", t0())
            .await
            .unwrap()
            .is_some());

        let later = t0() + Duration::hours(8);
        assert_eq!(
            tokens.find_console_session("s2", later).await.unwrap(),
            None
        );
        assert_eq!(tokens.purge_expired_tokens(later).await.unwrap(), 2);

        tokens
            .start_console_session("s4", "client-1", t0(), t0() + Duration::hours(8))
            .await
            .unwrap();
        assert!(f.stores.clients.revoke_client("client-1").await.unwrap());
        assert_eq!(tokens.find_console_session("s4", t0()).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn applications_list_by_company_and_name() {
    each_backend(|f| async move {
        let company = CompanyId::parse("559").unwrap();
        let other = CompanyId::parse("777").unwrap();
        for (id, company, name) in [
            ("000000000000000000000002", &company, "Outlet"),
            ("000000000000000000000003", &other, "Elsewhere"),
            ("000000000000000000000004", &company, "atelier"),
        ] {
            f.stores
                .applications
                .create_application(&Application {
                    id: ObjectId::parse("id", id).unwrap(),
                    company_id: company.clone(),
                    name: name.into(),
                    token_digest: format!("digest-{id}"),
                    default_region: Region::INDIA,
                    created_at: t0(),
                })
                .await
                .unwrap();
        }
        let names = |apps: Vec<Application>| apps.into_iter().map(|a| a.name).collect::<Vec<_>>();
        let listed = f
            .stores
            .applications
            .list_applications(&company, 10)
            .await
            .unwrap();
        // Byte order on both databases (their collations differ): capitals first.
        assert_eq!(names(listed), ["Outlet", "Shop", "atelier"]);
        let limited = f
            .stores
            .applications
            .list_applications(&company, 2)
            .await
            .unwrap();
        // The limit keeps the first by id (the fixture's Shop, then Outlet).
        assert_eq!(names(limited), ["Outlet", "Shop"]);
        let none = f
            .stores
            .applications
            .list_applications(&CompanyId::parse("1").unwrap(), 10)
            .await
            .unwrap();
        assert!(none.is_empty());
    })
    .await;
}
