//! One-time passwords: what a challenge is for, where it goes, the code itself, and the
//! rules every challenge obeys (length, lifetime, wrong attempts, resend timing, send
//! budgets). The store holds the counters; this module holds the arithmetic.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::auth_config::AuthConfig;
use crate::email::Email;
use crate::phone::Phone;
use crate::DomainError;

/// What a challenge proves when it is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtpPurpose {
    /// Sign in (or, for an unknown number, start a sign-up).
    Login,
    /// Verify a contact of a pending registration.
    Register,
    /// Verify a contact of a signed-in customer (adds it when new).
    VerifyContact,
    /// Reset a forgotten password.
    ForgotPassword,
    /// Prove the current primary contact before changing it.
    ChangePrimary,
    /// Verify the new value of a primary contact.
    UpdatePrimary,
    /// Confirm the deletion of an account.
    DeleteAccount,
    /// A verification link (its code is the link's secret, not a typed code).
    ContactLink,
    /// Proof that the primary contact was just verified: allows sending a code to a new
    /// primary value (handed to the storefront as a `request_id`, answered by no code).
    PrimaryGrant,
}

impl OtpPurpose {
    /// Every purpose, for parsing.
    pub const ALL: [OtpPurpose; 9] = [
        OtpPurpose::Login,
        OtpPurpose::Register,
        OtpPurpose::VerifyContact,
        OtpPurpose::ForgotPassword,
        OtpPurpose::ChangePrimary,
        OtpPurpose::UpdatePrimary,
        OtpPurpose::DeleteAccount,
        OtpPurpose::ContactLink,
        OtpPurpose::PrimaryGrant,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::Login => "login",
            OtpPurpose::Register => "register",
            OtpPurpose::VerifyContact => "verify_contact",
            OtpPurpose::ForgotPassword => "forgot_password",
            OtpPurpose::ChangePrimary => "change_primary",
            OtpPurpose::UpdatePrimary => "update_primary",
            OtpPurpose::DeleteAccount => "delete_account",
            OtpPurpose::ContactLink => "contact_link",
            OtpPurpose::PrimaryGrant => "primary_grant",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == name)
    }
}

/// Where a code goes: a mobile number or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtpTarget {
    /// A text message to this number.
    Mobile(Phone),
    /// An email to this address.
    Email(Email),
}

impl OtpTarget {
    /// The canonical text of the target (`+919876543210`, `asha@example.com`): what budgets
    /// count by and what the message is addressed to.
    pub fn key(&self) -> String {
        match self {
            OtpTarget::Mobile(phone) => phone.to_string(),
            OtpTarget::Email(email) => email.to_string(),
        }
    }

    /// The message template a code for this target is sent with.
    pub fn template(&self) -> &'static str {
        match self {
            OtpTarget::Mobile(_) => "otp_sms",
            OtpTarget::Email(_) => "otp_email",
        }
    }

    /// `sms` or `email`.
    pub fn channel(&self) -> &'static str {
        match self {
            OtpTarget::Mobile(_) => "sms",
            OtpTarget::Email(_) => "email",
        }
    }
}

/// The smallest and largest code length an application may configure.
pub const CODE_LENGTHS: std::ops::RangeInclusive<u32> = 4..=8;

/// A fresh code of `length` decimal digits (clamped to [`CODE_LENGTHS`]), every digit
/// string equally likely; `rng` must be a cryptographically secure generator.
pub fn generate_code(length: u32, rng: &mut impl Rng) -> String {
    let length = length.clamp(*CODE_LENGTHS.start(), *CODE_LENGTHS.end());
    let bound = 10_u64.pow(length);
    let value = rng.gen_range(0..bound);
    format!("{value:0width$}", width = length as usize)
}

/// Whether `code` looks like a code at all (digits only, a plausible length): anything else
/// is refused before a challenge is touched.
pub fn is_well_formed(code: &str) -> bool {
    CODE_LENGTHS.contains(&u32::try_from(code.len()).unwrap_or(u32::MAX))
        && code.bytes().all(|b| b.is_ascii_digit())
}

/// The longest budget window an application may configure (`otp.budget_window_secs`).
pub const MAX_BUDGET_WINDOW: Duration = Duration::days(7);

/// A limit on sends: at most `limit` in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Sends allowed in the window.
    pub limit: u32,
    /// The sliding window.
    pub window: Duration,
}

/// What budgets count by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetScope {
    /// One target (number or address).
    Target,
    /// One client address.
    ClientAddress,
    /// The whole application.
    Application,
    /// Wrong answers for one target from one client network, across all its codes.
    AddressGuesses,
    /// Wrong answers for one target from everywhere, across all its codes.
    TargetGuesses,
    /// Sends a returning shopper asks for from a device they signed in on, to one of
    /// their own contacts.
    Device,
    /// Sends to the numbers of one calling code.
    Country,
    /// Wrong answers for one code from one client network.
    CodeAttempts,
}

impl BudgetScope {
    /// The name used in keys and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetScope::Target => "target",
            BudgetScope::ClientAddress => "address",
            BudgetScope::Application => "application",
            BudgetScope::AddressGuesses => "address_guesses",
            BudgetScope::TargetGuesses => "target_guesses",
            BudgetScope::Device => "device",
            BudgetScope::Country => "country",
            BudgetScope::CodeAttempts => "code_attempts",
        }
    }
}

/// The rules of an application's one-time passwords, from its `otp` configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpPolicy {
    /// Digits per code.
    pub code_length: u32,
    /// How long a code can be used after it was sent.
    pub lifetime: Duration,
    /// Wrong answers after which the challenge dies (resends do not reset them).
    pub max_attempts: u32,
    /// How long a resend must wait after the previous send.
    pub resend_after: Duration,
    /// Sends per target.
    pub per_target: Budget,
    /// Sends per client address.
    pub per_address: Budget,
    /// Sends per application.
    pub per_application: Budget,
    /// Phone country codes codes may be sent to; empty means any.
    pub country_codes: Vec<u16>,
    /// Wrong answers for one target from one client network (IPv6 by /64), across all
    /// the target's codes and purposes.
    pub guesses_per_address: Budget,
    /// Wrong answers for one target from all addresses, across all its codes.
    pub guesses_per_target: Budget,
    /// Sends per device a shopper signed in on, to that shopper's own contacts (instead of
    /// the per-address and per-application budgets).
    pub per_device: Budget,
    /// Sends per calling code, when set (premium-rate pumping to one country is bounded).
    pub per_country: Option<Budget>,
}

/// The window of the guessing budgets.
pub const GUESS_WINDOW: Duration = Duration::hours(24);

impl Default for OtpPolicy {
    fn default() -> Self {
        let hour = Duration::hours(1);
        Self {
            code_length: 4,
            lifetime: Duration::minutes(10),
            max_attempts: 5,
            resend_after: Duration::seconds(30),
            per_target: Budget {
                limit: 5,
                window: hour,
            },
            per_address: Budget {
                limit: 30,
                window: hour,
            },
            per_application: Budget {
                limit: 1000,
                window: hour,
            },
            country_codes: Vec::new(),
            guesses_per_address: Budget {
                limit: 10,
                window: GUESS_WINDOW,
            },
            guesses_per_target: Budget {
                limit: 30,
                window: GUESS_WINDOW,
            },
            per_device: Budget {
                limit: 10,
                window: hour,
            },
            per_country: None,
        }
    }
}

impl OtpPolicy {
    /// The policy `config` sets (`otp.*`), defaults where it is silent.
    pub fn from_config(config: &AuthConfig) -> Self {
        let defaults = Self::default();
        let int = |path: &str| config.integer(path).and_then(|v| u32::try_from(v).ok());
        let window = config
            .integer("otp.budget_window_secs")
            .map_or(defaults.per_target.window, Duration::seconds);
        let budget = |path: &str, default: Budget| Budget {
            limit: int(path).unwrap_or(default.limit),
            window,
        };
        Self {
            code_length: int("otp.length").unwrap_or(defaults.code_length),
            lifetime: config
                .integer("otp.expiry_secs")
                .map_or(defaults.lifetime, Duration::seconds),
            max_attempts: int("otp.attempts").unwrap_or(defaults.max_attempts),
            resend_after: config
                .integer("otp.resend_timer")
                .map_or(defaults.resend_after, Duration::seconds),
            per_target: budget("otp.per_target", defaults.per_target),
            per_address: budget("otp.per_address", defaults.per_address),
            per_application: budget("otp.per_application", defaults.per_application),
            per_device: budget("otp.per_device", defaults.per_device),
            per_country: int("otp.per_country").map(|limit| Budget { limit, window }),
            guesses_per_address: Budget {
                limit: int("otp.guesses_per_address").unwrap_or(defaults.guesses_per_address.limit),
                window: GUESS_WINDOW,
            },
            guesses_per_target: Budget {
                limit: int("otp.guesses_per_target").unwrap_or(defaults.guesses_per_target.limit),
                window: GUESS_WINDOW,
            },
            country_codes: config
                .integers("otp.country_codes")
                .map_or_else(Vec::new, |codes| {
                    codes
                        .into_iter()
                        .filter_map(|code| u16::try_from(code).ok())
                        .collect()
                }),
        }
    }

    /// Seconds a storefront shows before offering a resend.
    pub fn resend_timer_secs(&self) -> u32 {
        u32::try_from(self.resend_after.num_seconds()).unwrap_or(u32::MAX)
    }

    /// Refuses a target the application does not send to (a number outside the allowed
    /// country codes).
    pub fn check_target(&self, target: &OtpTarget) -> Result<(), DomainError> {
        match target {
            OtpTarget::Mobile(phone)
                if !self.country_codes.is_empty()
                    && !self.country_codes.contains(&phone.country_code()) =>
            {
                Err(DomainError::invalid(
                    "country_code",
                    format!(
                        "codes are not sent to +{} numbers by this application",
                        phone.country_code()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// When a challenge last sent at `last_sent_at` may be resent: `None` when it may be now.
    pub fn resend_wait(&self, last_sent_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
        let ready = last_sent_at + self.resend_after;
        (ready > now).then(|| ready - now)
    }

    /// The budgets a send to `target` from `client_address` counts against, with the key
    /// each is counted under.
    pub fn budgets(
        &self,
        application_id: &str,
        target: &OtpTarget,
        client_address: &str,
    ) -> Vec<(BudgetScope, String, Budget)> {
        let mut budgets = vec![
            self.target_budget(application_id, target),
            (
                BudgetScope::ClientAddress,
                format!("a:{application_id}:{}", address_key(client_address)),
                self.per_address,
            ),
            (
                BudgetScope::Application,
                format!("p:{application_id}"),
                self.per_application,
            ),
        ];
        budgets.extend(self.country_budget(application_id, target));
        budgets
    }

    /// The budgets a send to `target` counts against when it is asked for from a device
    /// (`device_digest`) that the customer who proved the target signed in on: the target's,
    /// the device's and the calling code's, not the anonymous per-address and
    /// per-application ones that a flood of sends elsewhere may have spent.
    pub fn device_budgets(
        &self,
        application_id: &str,
        target: &OtpTarget,
        device_digest: &str,
    ) -> Vec<(BudgetScope, String, Budget)> {
        let mut budgets = vec![
            self.target_budget(application_id, target),
            (
                BudgetScope::Device,
                format!("d:{application_id}:{device_digest}"),
                self.per_device,
            ),
        ];
        budgets.extend(self.country_budget(application_id, target));
        budgets
    }

    /// The budget of the target's calling code, when the application sets one.
    fn country_budget(
        &self,
        application_id: &str,
        target: &OtpTarget,
    ) -> Option<(BudgetScope, String, Budget)> {
        match (target, self.per_country) {
            (OtpTarget::Mobile(phone), Some(budget)) => Some((
                BudgetScope::Country,
                format!("c:{application_id}:{}", phone.country_code()),
                budget,
            )),
            _ => None,
        }
    }

    fn target_budget(
        &self,
        application_id: &str,
        target: &OtpTarget,
    ) -> (BudgetScope, String, Budget) {
        (
            BudgetScope::Target,
            format!("t:{application_id}:{}", target.key()),
            self.per_target,
        )
    }
}

impl OtpPolicy {
    /// The budgets a wrong answer for the target `target_key` from `client_address` counts
    /// against, with their keys. An attacker's chance of finding one code in a window is at
    /// most `guesses_per_target / 10^code_length` however many codes they have sent.
    ///
    /// From a device the target's own customer signed in on (`known_device`, the digest of
    /// its token) the total is replaced by a budget of that device of the same size as a
    /// network's, so wrong answers sent on purpose by others never shut that shopper out,
    /// and a stolen device cookie is worth no more than one more network.
    pub fn guess_budgets(
        &self,
        application_id: &str,
        target_key: &str,
        client_address: &str,
        known_device: Option<&str>,
    ) -> Vec<(BudgetScope, String, Budget)> {
        let address = (
            BudgetScope::AddressGuesses,
            format!(
                "ga:{application_id}:{target_key}:{}",
                address_key(client_address)
            ),
            self.guesses_per_address,
        );
        let total = match known_device {
            Some(device) => (
                BudgetScope::AddressGuesses,
                format!("gd:{application_id}:{target_key}:{device}"),
                self.guesses_per_address,
            ),
            None => (
                BudgetScope::TargetGuesses,
                format!("gt:{application_id}:{target_key}"),
                self.guesses_per_target,
            ),
        };
        vec![address, total]
    }

    /// The most answers one code takes from all networks together: its attempts per
    /// network bound each network, this bounds a code however many networks answer.
    pub fn code_attempts_in_all(&self) -> u32 {
        self.max_attempts.max(self.guesses_per_target.limit)
    }

    /// The budget of wrong answers to one code (`challenge_id`) from one client network:
    /// a code's own attempt limit, counted per network so that a stranger answering wrong
    /// on purpose cannot burn a shopper's live code.
    pub fn code_attempts_budget(
        &self,
        challenge_id: &str,
        client_address: &str,
    ) -> (BudgetScope, String, Budget) {
        (
            BudgetScope::CodeAttempts,
            format!("k:{challenge_id}:{}", address_key(client_address)),
            Budget {
                limit: self.max_attempts,
                window: GUESS_WINDOW,
            },
        )
    }
}

/// The part of a client address that per-address budgets count by: an IPv6 address by its
/// /64 prefix (one subscriber's network, whose 2^64 addresses cost an attacker nothing), an
/// IPv4 address (also one mapped into IPv6) as it is. Text that is no address stays as is.
pub fn address_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// Whole seconds until `at`, at least one (for `Retry-After`).
pub fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (at - now).num_milliseconds().max(1);
    u64::try_from(millis).unwrap_or(1).div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use serde_json::json;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap_or_default()
    }

    #[test]
    fn purposes_round_trip_their_names() {
        for purpose in OtpPurpose::ALL {
            assert_eq!(OtpPurpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(OtpPurpose::parse("other"), None);
    }

    #[test]
    fn the_default_policy_is_the_documented_one() {
        let policy = OtpPolicy::from_config(&AuthConfig::defaults("Shop"));
        assert_eq!(policy, OtpPolicy::default());
        assert_eq!(policy.code_length, 4);
        assert_eq!(policy.lifetime, Duration::minutes(10));
        assert_eq!(policy.max_attempts, 5);
        assert_eq!(policy.resend_timer_secs(), 30);
        assert_eq!(
            (
                policy.per_target.limit,
                policy.per_address.limit,
                policy.per_application.limit
            ),
            (5, 30, 1000)
        );
    }

    #[test]
    fn configuration_overrides_each_rule() {
        let config = AuthConfig::defaults("Shop");
        let update = json!({"otp": {"length": 6, "expiry_secs": 120, "attempts": 3,
            "resend_timer": 10, "per_target": 2, "per_address": 4, "per_application": 9,
            "budget_window_secs": 60, "country_codes": [91, 44]}});
        let (config, _) = config
            .apply_update(update.as_object().unwrap_or(&serde_json::Map::new()))
            .unwrap_or_else(|e| panic!("{e}"));
        let policy = OtpPolicy::from_config(&config);
        assert_eq!(policy.code_length, 6);
        assert_eq!(policy.lifetime, Duration::seconds(120));
        assert_eq!(policy.max_attempts, 3);
        assert_eq!(policy.resend_after, Duration::seconds(10));
        assert_eq!(
            policy.per_target,
            Budget {
                limit: 2,
                window: Duration::seconds(60)
            }
        );
        assert_eq!(policy.per_address.limit, 4);
        assert_eq!(policy.per_application.limit, 9);
        assert_eq!(policy.country_codes, vec![91, 44]);
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let config = AuthConfig::defaults("Shop");
        for bad in [
            json!({"otp": {"length": 3}}),
            json!({"otp": {"length": 9}}),
            json!({"otp": {"attempts": 0}}),
            json!({"otp": {"per_target": 0}}),
            json!({"otp": {"country_codes": ["91"]}}),
            json!({"otp": {"country_codes": [0]}}),
        ] {
            let update = bad.as_object().cloned().unwrap_or_default();
            assert!(config.apply_update(&update).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_allowed_country_codes_receive_codes() {
        let policy = OtpPolicy {
            country_codes: vec![91],
            ..OtpPolicy::default()
        };
        let indian = OtpTarget::Mobile(
            Phone::parse("m", "9876543210", Some(91), crate::phone::Region::INDIA)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let british = OtpTarget::Mobile(
            Phone::parse("m", "7400123456", Some(44), crate::phone::Region::INDIA)
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let email =
            OtpTarget::Email(Email::parse("e", "a@example.com").unwrap_or_else(|e| panic!("{e}")));
        assert!(policy.check_target(&indian).is_ok());
        assert!(policy.check_target(&british).is_err());
        assert!(policy.check_target(&email).is_ok());
        assert!(OtpPolicy::default().check_target(&british).is_ok());
    }

    #[test]
    fn resends_wait_for_the_timer() {
        let policy = OtpPolicy::default();
        assert_eq!(
            policy.resend_wait(at(0), at(10)),
            Some(Duration::seconds(20))
        );
        assert_eq!(policy.resend_wait(at(0), at(30)), None);
        assert_eq!(policy.resend_wait(at(0), at(31)), None);
        assert_eq!(seconds_until(at(30), at(10)), 20);
        assert_eq!(seconds_until(at(10), at(10)), 1);
    }

    #[test]
    fn budgets_are_keyed_by_application_target_and_address() {
        let policy = OtpPolicy::default();
        let target =
            OtpTarget::Email(Email::parse("e", "a@example.com").unwrap_or_else(|e| panic!("{e}")));
        let keys: Vec<String> = policy
            .budgets("app1", &target, "203.0.113.9")
            .into_iter()
            .map(|(_, key, _)| key)
            .collect();
        assert_eq!(
            keys,
            ["t:app1:a@example.com", "a:app1:203.0.113.9", "p:app1"]
        );
    }

    proptest! {
        #[test]
        fn codes_have_the_asked_length_and_only_digits(length in 0_u32..20, seed in any::<u64>()) {
            let mut rng = StdRng::seed_from_u64(seed);
            let code = generate_code(length, &mut rng);
            let expected = length.clamp(4, 8) as usize;
            prop_assert_eq!(code.len(), expected);
            prop_assert!(is_well_formed(&code));
        }

        #[test]
        fn malformed_codes_are_recognised(code in "[0-9a-z ]{0,12}") {
            let digits = code.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(is_well_formed(&code), digits && (4..=8).contains(&code.len()));
        }
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_bit_network() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:ffff:ffff:ffff:fffe"),
            address_key("2001:db8:1:2::9")
        );
        assert_ne!(
            address_key("2001:db8:1:3::1"),
            address_key("2001:db8:1:2::1")
        );
        assert_eq!(address_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("unknown"), "unknown");
    }
}
