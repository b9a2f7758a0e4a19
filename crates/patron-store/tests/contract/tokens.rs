//! OAuth tokens: lookup by digest, expiry, single-use rotation.

use chrono::Duration;
use patron_domain::ids::CompanyId;
use patron_domain::scope::Scope;
use patron_store::{ApiClient, TokenGrant, TokenKind};

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
        created_at: t0(),
        expires_at: t0() + ttl,
    }
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
async fn refresh_tokens_rotate_once_even_concurrently() {
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
                tokio::spawn(async move {
                    let replacements = [
                        grant(
                            &format!("a-{i}"),
                            TokenKind::Access,
                            vec![],
                            Duration::hours(1),
                        ),
                        grant(
                            &format!("r-{i}"),
                            TokenKind::Refresh,
                            vec![],
                            Duration::days(30),
                        ),
                    ];
                    stores
                        .tokens
                        .rotate_refresh_token("r1", "client-1", &replacements, t0())
                        .await
                        .unwrap()
                        .map(|_| i)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for attempt in attempts {
            if let Some(i) = attempt.await.unwrap() {
                winners.push(i);
            }
        }
        assert_eq!(winners.len(), 1, "exactly one rotation wins");
        let access = f
            .stores
            .tokens
            .find_token(&format!("a-{}", winners[0]), TokenKind::Access, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(access.scopes, scopes, "replacements inherit the scopes");
        let wrong_client = f
            .stores
            .tokens
            .rotate_refresh_token(&format!("r-{}", winners[0]), "other", &[], t0())
            .await
            .unwrap();
        assert!(wrong_client.is_none());
    })
    .await;
}
