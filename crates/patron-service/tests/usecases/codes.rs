//! One-time codes: single use, bounded wrong answers per code, and a lifetime the clock
//! ends.

use chrono::Duration;
use patron_domain::email::Email;
use patron_domain::otp::OtpTarget;
use patron_service::{CodeAnswer, Sender, ServiceError, Verified};

use crate::{each_world, World};

const SHOPPER: &str = "asha@example.com";

fn target() -> OtpTarget {
    OtpTarget::Email(Email::parse("email", SHOPPER).unwrap())
}

async fn send(world: &World) -> String {
    world
        .services
        .otp
        .send_login_code(
            &world.application,
            target(),
            Sender {
                client_address: "203.0.113.7",
                android_hash: None,
                device: None,
            },
        )
        .await
        .unwrap();
    world.code_sent_to(SHOPPER).await
}

async fn answer(world: &World, code: &str) -> Result<Verified, ServiceError> {
    world
        .services
        .otp
        .verify(
            &world.application,
            CodeAnswer::ByTarget {
                target: target(),
                code: code.to_owned(),
            },
            None,
            None,
            World::origin("203.0.113.7"),
        )
        .await
}

/// A code of the same length that is not `code`.
fn wrong(code: &str) -> String {
    code.chars()
        .map(|digit| if digit == '0' { '1' } else { '0' })
        .collect()
}

#[tokio::test]
async fn a_code_signs_in_once_and_never_again() {
    each_world(|world| async move {
        world.customer(SHOPPER, "Sup3r-secret").await;
        let code = send(&world).await;
        assert!(matches!(
            answer(&world, &code).await,
            Ok(Verified::SignedIn(_))
        ));
        assert!(
            matches!(answer(&world, &code).await, Err(ServiceError::InvalidOtp)),
            "a used code is spent"
        );
        world
    })
    .await;
}

#[tokio::test]
async fn a_code_takes_a_bounded_number_of_wrong_answers_then_refuses_the_right_one() {
    each_world(|world| async move {
        world.customer(SHOPPER, "Sup3r-secret").await;
        let code = send(&world).await;
        let mut wrong_answers = 0;
        let exhausted = loop {
            match answer(&world, &wrong(&code)).await {
                Err(ServiceError::InvalidOtp) => wrong_answers += 1,
                Err(ServiceError::OtpAttemptsExhausted) => break true,
                other => panic!("a wrong code was answered with {other:?}"),
            }
            assert!(wrong_answers < 20, "wrong answers are not bounded");
        };
        assert!(exhausted && wrong_answers >= 1, "{wrong_answers}");
        assert!(
            answer(&world, &code).await.is_err(),
            "after its last wrong answer the code is dead"
        );
        world
    })
    .await;
}

#[tokio::test]
async fn a_code_expires_with_the_clock() {
    each_world(|world| async move {
        world.customer(SHOPPER, "Sup3r-secret").await;
        let code = send(&world).await;
        world.clock.advance(Duration::days(1));
        assert!(matches!(
            answer(&world, &code).await,
            Err(ServiceError::InvalidOtp)
        ));
        world
    })
    .await;
}

#[tokio::test]
async fn wrong_answers_add_up_across_codes_until_the_network_may_answer_no_more() {
    each_world(|world| async move {
        world.customer(SHOPPER, "Sup3r-secret").await;
        // The default budget: 10 wrong answers a day per client network and target, over
        // every code the target is sent; a new code does not start a new count.
        let mut wrong_answers = 0;
        let refused = 'codes: loop {
            let code = send(&world).await;
            loop {
                match answer(&world, &wrong(&code)).await {
                    Err(ServiceError::InvalidOtp) => wrong_answers += 1,
                    // The code has had its wrong answers: this one was not compared.
                    Err(ServiceError::OtpAttemptsExhausted) => break,
                    Err(ServiceError::GuessLimit { .. }) => break 'codes code,
                    other => panic!("a wrong code was answered with {other:?}"),
                }
            }
            world.clock.advance(Duration::minutes(2));
        };
        assert_eq!(wrong_answers, 10);
        assert!(
            matches!(
                answer(&world, &refused).await,
                Err(ServiceError::GuessLimit { .. })
            ),
            "past the budget even the right code is not compared"
        );
        world.clock.advance(Duration::days(1));
        let code = send(&world).await;
        assert!(matches!(
            answer(&world, &code).await,
            Ok(Verified::SignedIn(_))
        ));
        world
    })
    .await;
}
