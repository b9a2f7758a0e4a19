//! What the use cases record through the `metrics` facade; the server installs the
//! recorder, describes the series and renders them at `/metrics`.

use metrics::{counter, gauge, histogram};

/// A password hash or check waited `waited` seconds for a slot.
pub fn hash_waited(waited: f64) {
    histogram!("patron_password_hash_wait_seconds").record(waited);
}

/// One more (`+1.0`) or one fewer (`-1.0`) hash waiting for a slot.
pub fn hash_queue(change: f64) {
    gauge!("patron_password_hash_queue_depth").increment(change);
}

/// A one-time password was sent (`reason` empty) or refused for `reason`.
pub fn otp_send(reason: Option<&'static str>) {
    let (outcome, reason) = match reason {
        None => ("sent", ""),
        Some(reason) => ("refused", reason),
    };
    counter!("patron_otp_sends_total", "outcome" => outcome, "reason" => reason).increment(1);
}
