//! Lifecycle events: which recorded changes of a customer other systems (CRM, marketing,
//! loyalty) hear about, under which type, and how patiently a delivery is retried.

use chrono::Duration;

/// The event type a recorded change (`audit_events.action`) is announced as, if any.
pub fn event_type(action: &str) -> Option<&'static str> {
    Some(match action {
        "create" | "import" => "customer.created",
        "update" | "contact_release" => "customer.updated",
        "block" => "customer.blocked",
        "unblock" => "customer.unblocked",
        "archive" => "customer.archived",
        "restore" | "undelete" => "customer.restored",
        "delete_request" | "anonymise" => "customer.deleted",
        "attributes_change" => "customer.attributes_changed",
        "session_end" | "sessions_end" => "session.revoked",
        _ => return None,
    })
}

/// Every event type, for documentation and receivers' tests.
pub const EVENT_TYPES: [&str; 9] = [
    "customer.created",
    "customer.updated",
    "customer.blocked",
    "customer.unblocked",
    "customer.archived",
    "customer.restored",
    "customer.deleted",
    "customer.attributes_changed",
    "session.revoked",
];

/// Attempts after which an event is given up: with [`retry_delay`] they span about a day,
/// so a receiver may be down that long without losing anything.
pub const MAX_EVENT_ATTEMPTS: u32 = 30;

/// How long to wait after failed attempt number `attempts` (1-based) before the next:
/// 5 seconds doubling up to an hour; `None` once [`MAX_EVENT_ATTEMPTS`] are spent.
pub fn retry_delay(attempts: u32) -> Option<Duration> {
    if attempts >= MAX_EVENT_ATTEMPTS {
        return None;
    }
    let doublings = attempts.saturating_sub(1).min(10);
    Some((Duration::seconds(5) * 2_i32.pow(doublings)).min(Duration::hours(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_announced_type_is_listed() {
        for action in [
            "create",
            "import",
            "update",
            "block",
            "unblock",
            "archive",
            "restore",
            "undelete",
            "delete_request",
            "anonymise",
            "attributes_change",
            "session_end",
            "sessions_end",
        ] {
            let kind = event_type(action).unwrap();
            assert!(EVENT_TYPES.contains(&kind), "{kind}");
        }
        assert_eq!(event_type("login_token"), None);
        assert_eq!(event_type("password_change"), None);
    }

    #[test]
    fn retries_back_off_to_an_hour_and_last_about_a_day() {
        assert_eq!(retry_delay(1), Some(Duration::seconds(5)));
        assert_eq!(retry_delay(2), Some(Duration::seconds(10)));
        assert_eq!(retry_delay(12), Some(Duration::hours(1)));
        let total: Duration = (1..MAX_EVENT_ATTEMPTS).filter_map(retry_delay).sum();
        assert!(
            total > Duration::hours(18) && total < Duration::hours(30),
            "{total}"
        );
        assert_eq!(retry_delay(MAX_EVENT_ATTEMPTS), None);
    }
}
