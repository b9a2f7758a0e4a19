//! Password sign-in: every attempt is counted before the password is checked, the lock
//! holds even against the right password, and time alone lifts it.

use chrono::Duration;
use patron_service::{Clock, ServiceError, SignedIn};

use crate::{each_world, World};

async fn sign_in(world: &World, password: &str) -> Result<SignedIn, ServiceError> {
    world
        .services
        .passwords
        .sign_in(
            &world.application,
            "asha@example.com",
            password.to_owned(),
            World::origin("203.0.113.7"),
        )
        .await
}

#[tokio::test]
async fn a_locked_account_refuses_the_right_password_until_the_lock_ends() {
    each_world(|world| async move {
        world.customer("asha@example.com", "Sup3r-secret").await;
        // The default lockout: 5 failures lock for 15 minutes.
        for _ in 0..5 {
            assert!(matches!(
                sign_in(&world, "wrong-password").await,
                Err(ServiceError::InvalidCredentials)
            ));
        }
        let until = match sign_in(&world, "Sup3r-secret").await {
            Err(ServiceError::AccountLocked { until }) => until,
            other => panic!("the right password got through a lock: {other:?}"),
        };
        assert_eq!(until, world.clock.now() + Duration::minutes(15));
        world.clock.advance(Duration::minutes(14));
        assert!(matches!(
            sign_in(&world, "Sup3r-secret").await,
            Err(ServiceError::AccountLocked { .. })
        ));
        world.clock.advance(Duration::minutes(2));
        assert!(sign_in(&world, "Sup3r-secret").await.is_ok());
        world
    })
    .await;
}

#[tokio::test]
async fn an_unknown_name_is_answered_and_locked_like_a_known_one() {
    each_world(|world| async move {
        for _ in 0..5 {
            assert!(matches!(
                sign_in(&world, "whatever-1").await,
                Err(ServiceError::InvalidCredentials)
            ));
        }
        assert!(
            matches!(
                sign_in(&world, "whatever-1").await,
                Err(ServiceError::AccountLocked { .. })
            ),
            "no answer tells an unknown name from a known one"
        );
        world
    })
    .await;
}
