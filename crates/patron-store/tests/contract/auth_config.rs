//! Authentication configurations: saved with an optimistic version check, so concurrent
//! writers never overwrite each other unknowingly.

use chrono::Duration;
use serde_json::{json, Map, Value};

use crate::{each_backend, t0};

fn document(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

#[tokio::test]
async fn saves_check_the_version_and_the_first_keeps_the_creation_time() {
    each_backend(|f| async move {
        let configs = &f.stores.auth_configs;
        assert!(configs
            .find_auth_config(&f.application)
            .await
            .unwrap()
            .is_none());
        let first = configs
            .save_auth_config(
                &f.application,
                None,
                &document(json!({"login": {"otp": false}})),
                Some("sealed"),
                t0() + Duration::days(1),
            )
            .await
            .unwrap()
            .expect("the first save");
        assert_eq!(
            (first.version, first.created_at, first.secrets.as_deref()),
            (1, t0(), Some("sealed"))
        );
        let again = configs
            .save_auth_config(&f.application, None, &document(json!({})), None, t0())
            .await
            .unwrap();
        assert!(again.is_none(), "a second first save loses");

        let stale = configs
            .save_auth_config(&f.application, Some(0), &document(json!({})), None, t0())
            .await
            .unwrap();
        assert!(stale.is_none(), "a stale version loses");
        let second = configs
            .save_auth_config(
                &f.application,
                Some(1),
                &document(json!({"login": {"otp": true}})),
                None,
                t0() + Duration::days(2),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (second.version, second.document["login"]["otp"].clone()),
            (2, json!(true))
        );
        let read = configs
            .find_auth_config(&f.application)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (read.version, read.updated_at),
            (2, t0() + Duration::days(2))
        );
    })
    .await;
}

#[tokio::test]
async fn of_concurrent_saves_on_one_version_exactly_one_wins() {
    each_backend(|f| async move {
        let configs = f.stores.auth_configs.clone();
        configs
            .save_auth_config(&f.application, None, &document(json!({})), None, t0())
            .await
            .unwrap()
            .unwrap();
        let saves = (0..6).map(|n| {
            let configs = configs.clone();
            let application = f.application.clone();
            tokio::spawn(async move {
                configs
                    .save_auth_config(
                        &application,
                        Some(1),
                        &document(json!({"writer": n})),
                        None,
                        t0(),
                    )
                    .await
            })
        });
        let mut winners = 0;
        for save in saves {
            winners += usize::from(save.await.unwrap().unwrap().is_some());
        }
        assert_eq!(winners, 1, "{:?}", f.backend);
        assert_eq!(
            configs
                .find_auth_config(&f.application)
                .await
                .unwrap()
                .unwrap()
                .version,
            2
        );
    })
    .await;
}
