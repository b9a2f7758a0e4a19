//! A customer's timeline: how each recorded change reads to the support staff who look at it.

/// One entry of the timeline, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    /// What happened, e.g. `Account blocked`.
    pub title: String,
    /// Its kind, stable for clients (`blocked`, `password_changed`, …).
    pub kind: String,
    /// The reason or detail recorded with it, when any.
    pub sub_title: Option<String>,
    /// Whether it is shown by default (sign-in token issues and session starts are noise).
    pub visible: bool,
}

/// The timeline entry for an audit record's `action`, with its recorded `reason`. Actions
/// this version does not know keep their name, hidden.
pub fn describe(action: &str, reason: Option<&str>) -> TimelineEntry {
    let (title, kind, visible) = match action {
        "create" => ("Account created", "created", true),
        "import" => ("Account imported", "created", true),
        "update" => ("Profile updated", "updated", true),
        "attributes_change" => ("Attributes changed", "attributes_changed", true),
        "block" => ("Account blocked", "blocked", true),
        "unblock" => ("Account unblocked", "unblocked", true),
        "archive" => ("Account archived", "archived", true),
        "restore" => ("Account restored", "restored", true),
        "password_change" => ("Password changed", "password_changed", true),
        "session_create" => (
            "Session started by an administrator",
            "session_started",
            false,
        ),
        "session_end" => ("Session ended", "session_ended", true),
        "sessions_end" => ("All sessions ended", "sessions_ended", true),
        "login_token" => ("Sign-in token issued", "login_token", false),
        "delete_request" => ("Deletion requested", "deletion_requested", true),
        "undelete" => ("Deletion cancelled", "deletion_cancelled", true),
        "anonymise" => ("Account anonymised", "anonymised", true),
        "contact_release" => (
            "Unproven contact taken by the person who proved it",
            "contact_released",
            true,
        ),
        other => (other, other, false),
    };
    TimelineEntry {
        title: title.to_owned(),
        kind: kind.to_owned(),
        sub_title: reason
            .map(str::trim)
            .filter(|reason| !reason.is_empty())
            .map(str::to_owned),
        visible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_read_as_sentences_with_their_reason() {
        let blocked = describe("block", Some("fraud review"));
        assert_eq!(
            (
                blocked.title.as_str(),
                blocked.kind.as_str(),
                blocked.visible
            ),
            ("Account blocked", "blocked", true)
        );
        assert_eq!(blocked.sub_title.as_deref(), Some("fraud review"));
        assert_eq!(describe("create", Some("  ")).sub_title, None);
        assert!(!describe("login_token", None).visible);
    }

    #[test]
    fn unknown_actions_keep_their_name_and_stay_hidden() {
        let entry = describe("merge", None);
        assert_eq!((entry.title.as_str(), entry.visible), ("merge", false));
    }
}
