//! Lifecycle events end to end: changes made over the API reach a receiver, signed, even
//! when it is down for a while.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use chrono::Duration;
use patron_server::config::EventsSettings;
use patron_server::notify::{signature, WebhookEvents};
use patron_service::Clock;
use patron_service::Events;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::each_app;

const SECRET: &str = "a-receiver-secret-of-32-characters";

/// What the receiver got: the signature header and the body of every POST.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A receiver that answers 503 to its first `down_for` requests, then 200; returns its URL.
async fn receiver(down_for: usize) -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let signature = headers
                    .get("x-patron-signature")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut log = log.lock().unwrap();
                log.push((signature, body));
                if log.len() <= down_for {
                    AxumStatus::SERVICE_UNAVAILABLE
                } else {
                    AxumStatus::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn events_arrive_signed_after_the_receiver_comes_back() {
    each_app(|app| async move {
        let (url, received) = receiver(3).await;
        let sink = WebhookEvents::new(&EventsSettings {
            url,
            secret: SECRET.to_owned(),
        })
        .unwrap();
        let events = Events::new(
            app.stores.events.clone(),
            Some(Arc::new(sink)),
            app.clock.clone(),
        );

        let id = app.create_customer("asha@example.com", "9876543210").await;
        let body = json!({"status": false, "user_id": [id], "reason": "fraud review"});
        let (status, _) = app
            .send(Method::PUT, "/customers/activation", Some(body))
            .await;
        assert_eq!(status, StatusCode::OK);
        let age = crate::define(&app, json!({"name": "Age", "type": "number"})).await;
        let (status, _) = crate::set_value(&app, &age, &id, json!(30)).await;
        assert_eq!(status, StatusCode::CREATED);
        let value_path = format!(
            "/user_attribute/definition/{}/user/{id}",
            age["_id"].as_str().unwrap()
        );
        let (status, _) = app.send(Method::DELETE, &value_path, None).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "a removed value is an attributes change too"
        );

        // Down for its first three requests: the worker keeps trying with backoff.
        let mut delivered = 0;
        for _ in 0..10 {
            delivered += events.deliver_due().await.unwrap();
            app.clock.advance(Duration::minutes(5));
        }
        assert_eq!(delivered, 4, "every event got through in the end");

        let received = received.lock().unwrap().clone();
        assert!(
            received.len() >= 5,
            "three refusals, then the two events: {received:?}"
        );
        let mut delivered_kinds = Vec::new();
        for (signed, body) in &received {
            assert_eq!(
                signed,
                &signature(SECRET, body.as_bytes()),
                "signed: {body}"
            );
            let event: Value = serde_json::from_str(body).unwrap();
            assert_eq!(event["company_id"], "559");
            assert_eq!(event["application_id"], app.application_id.as_str());
            assert_eq!(event["data"]["user_id"], id.as_str());
            assert!(event["id"].is_string() && event["occurred_at"].is_string());
            delivered_kinds.push(event["type"].as_str().unwrap().to_owned());
        }
        for kind in [
            "customer.created",
            "customer.blocked",
            "customer.attributes_changed",
        ] {
            assert!(
                delivered_kinds.contains(&kind.to_owned()),
                "{kind}: {delivered_kinds:?}"
            );
        }
        let blocked: Value = received
            .iter()
            .map(|(_, body)| serde_json::from_str::<Value>(body).unwrap())
            .find(|event| event["type"] == "customer.blocked")
            .unwrap();
        assert_eq!(blocked["reason"], "fraud review");
        assert_eq!(events.deliver_due().await.unwrap(), 0, "nothing left");

        // A replay sends them again (receivers deduplicate by id).
        let replayed = events
            .replay(app.clock.now() - Duration::days(1))
            .await
            .unwrap();
        assert_eq!(replayed, 4);
        assert_eq!(events.deliver_due().await.unwrap(), 4);
        app
    })
    .await;
}
