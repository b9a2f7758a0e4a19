//! The one mechanism behind every one-time password: a challenge is created (or resent)
//! against the application's send budgets, its code goes out through the notifier, and an
//! answer is counted before it is compared, so a challenge dies after its last wrong answer
//! however many resends it had.

use std::sync::Arc;

use patron_domain::ids::ObjectId;
use patron_domain::notification::Channel;
use patron_domain::otp::{self, BudgetScope, OtpPolicy, OtpPurpose, OtpTarget};
use patron_domain::secret;
use patron_store::{
    Application, AttemptOutcome, BudgetCharge, OtpChallenge, OtpStore, ResendOutcome, SendOutcome,
};
use serde_json::{json, Map};

use super::otp_sign_in::target_of;
use super::{AuthConfigs, DeviceToken, Notifications, ServiceError};
use crate::clock::Clock;
use crate::secrets::SecretBox;

/// A code to send.
#[derive(Debug, Clone)]
pub struct CodeRequest<'a> {
    /// What answering it proves.
    pub purpose: OtpPurpose,
    /// Where it goes.
    pub target: OtpTarget,
    /// The customer it concerns, when known.
    pub customer_id: Option<ObjectId>,
    /// What else it is bound to (a registration token's digest).
    pub context: Option<String>,
    /// The requesting client's address (counted against its budget).
    pub client_address: &'a str,
    /// Appended to the text message for Android's SMS retriever.
    pub android_hash: Option<&'a str>,
    /// The device cookie the client presented, if any.
    pub device: Option<&'a DeviceToken>,
    /// False to record the challenge (and charge the budgets) without sending anything:
    /// answers for unknown accounts must look like answers for known ones.
    pub deliver: bool,
}

/// Who asks for or answers a code: the client's address and the device cookie it
/// presented.
#[derive(Debug, Clone, Copy)]
pub struct CodeClient<'a> {
    /// The client's address (budgets count its network).
    pub address: &'a str,
    /// The device cookie, if any.
    pub device: Option<&'a DeviceToken>,
}

impl<'a> CodeClient<'a> {
    /// A client known by its address alone.
    pub fn at(address: &'a str) -> Self {
        Self {
            address,
            device: None,
        }
    }
}

/// A challenge that went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    /// The id the storefront verifies with.
    pub request_id: String,
    /// The token that allows a resend.
    pub resend_token: String,
    /// Seconds before a resend is allowed.
    pub resend_timer: u32,
}

/// A challenge answered correctly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenCode {
    /// Its id.
    pub request_id: String,
    /// What it proves.
    pub purpose: OtpPurpose,
    /// The canonical target.
    pub target: String,
    /// The customer it concerns, when known.
    pub customer_id: Option<ObjectId>,
    /// What else it was bound to.
    pub context: Option<String>,
    /// When its code was last sent.
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

/// How long a verification link works.
const LINK_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

/// What an answer must be for: a challenge of another purpose, bound to another
/// registration or concerning another customer is refused before its code is compared (and
/// stays usable by the right caller).
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The purposes accepted.
    pub purposes: &'a [OtpPurpose],
    /// The registration token digest a registration code must be bound to.
    pub context: Option<&'a str>,
    /// The customer a code sent to a signed-in shopper must concern.
    pub customer_id: Option<&'a ObjectId>,
}

impl Expected<'_> {
    fn admits(&self, challenge: &OtpChallenge) -> bool {
        self.purposes.contains(&challenge.purpose)
            && match challenge.purpose {
                OtpPurpose::Register => challenge.context.as_deref() == self.context,
                OtpPurpose::Login | OtpPurpose::ForgotPassword => true,
                OtpPurpose::VerifyContact
                | OtpPurpose::ChangePrimary
                | OtpPurpose::UpdatePrimary
                | OtpPurpose::DeleteAccount
                | OtpPurpose::ContactLink
                | OtpPurpose::PrimaryGrant => challenge.customer_id.as_ref() == self.customer_id,
            }
    }
}

/// One-time password challenges.
#[derive(Clone)]
pub struct Challenges {
    store: Arc<dyn OtpStore>,
    notifications: Notifications,
    configs: AuthConfigs,
    secrets: SecretBox,
    clock: Arc<dyn Clock>,
}

impl Challenges {
    /// Challenges kept in `store`, their codes sent through `notifications`.
    pub fn new(
        store: Arc<dyn OtpStore>,
        notifications: Notifications,
        configs: AuthConfigs,
        secrets: SecretBox,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            notifications,
            configs,
            secrets,
            clock,
        }
    }

    /// The current time, as the challenges see it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The application's OTP rules.
    pub async fn policy(&self, application: &Application) -> Result<OtpPolicy, ServiceError> {
        Ok(OtpPolicy::from_config(
            &self.configs.load(application).await?.config,
        ))
    }

    /// Creates a challenge and sends its code, unless a budget is spent (then nothing is
    /// recorded or sent).
    pub async fn send(
        &self,
        application: &Application,
        request: CodeRequest<'_>,
    ) -> Result<SentCode, ServiceError> {
        let policy = self.policy(application).await?;
        policy.check_target(&request.target)?;
        let now = self.clock.now();
        let request_id = hex::encode(rand::random::<[u8; 16]>());
        let resend_token = secret::generate_secret();
        let code = otp::generate_code(policy.code_length, &mut rand::thread_rng());
        let resend_digest = secret::digest(&resend_token);
        let challenge = OtpChallenge {
            code_hash: self.code_hash(&resend_digest, &code),
            id: request_id.clone(),
            application_id: application.id.clone(),
            purpose: request.purpose,
            target: request.target.key(),
            customer_id: request.customer_id.clone(),
            context: request.context.clone(),
            resend_digest: Some(resend_digest),
            attempts: 0,
            sends: 1,
            last_sent_at: now,
            created_at: now,
            expires_at: now + policy.lifetime,
            used_at: None,
        };
        let requester = CodeClient {
            address: request.client_address,
            device: request.device,
        };
        let charges = self
            .send_charges(&policy, application, &request.target, requester, now)
            .await?;
        match self
            .store
            .create_challenge(&challenge, &charges, now)
            .await?
        {
            SendOutcome::Sent => crate::metrics::otp_send(None),
            SendOutcome::OverBudget { scope, retry_at } => {
                crate::metrics::otp_send(Some(scope.as_str()));
                return Err(ServiceError::SendLimit {
                    scope,
                    retry_after_secs: otp::seconds_until(retry_at, now),
                });
            }
        }
        self.deliver(
            application,
            &request.target,
            &code,
            &policy,
            request.android_hash,
            request.deliver,
        )
        .await?;
        Ok(SentCode {
            request_id,
            resend_token,
            resend_timer: policy.resend_timer_secs(),
        })
    }

    /// Sends a live challenge of `target` again with a new code, keeping its id and the
    /// wrong answers it had: only with its resend token, only after the resend timer, and
    /// only within the budgets.
    pub async fn resend(
        &self,
        application: &Application,
        target: &OtpTarget,
        resend_token: &str,
        requester: CodeClient<'_>,
        android_hash: Option<&str>,
    ) -> Result<SentCode, ServiceError> {
        let policy = self.policy(application).await?;
        policy.check_target(target)?;
        let now = self.clock.now();
        let code = otp::generate_code(policy.code_length, &mut rand::thread_rng());
        let digest = secret::digest(resend_token);
        let charges = self
            .send_charges(&policy, application, target, requester, now)
            .await?;
        let outcome = self
            .store
            .resend_challenge(
                &application.id,
                &digest,
                &target.key(),
                &self.code_hash(&digest, &code),
                policy.resend_after,
                now + policy.lifetime,
                &charges,
                now,
            )
            .await?;
        let challenge = match outcome {
            ResendOutcome::Resent(challenge) => {
                crate::metrics::otp_send(None);
                challenge
            }
            ResendOutcome::TooEarly { retry_at } => {
                crate::metrics::otp_send(Some("resend_too_early"));
                return Err(ServiceError::ResendTooEarly {
                    retry_after_secs: otp::seconds_until(retry_at, now),
                });
            }
            ResendOutcome::OverBudget { scope, retry_at } => {
                crate::metrics::otp_send(Some(scope.as_str()));
                return Err(ServiceError::SendLimit {
                    scope,
                    retry_after_secs: otp::seconds_until(retry_at, now),
                });
            }
            ResendOutcome::Unknown => {
                return Err(ServiceError::invalid(
                    "token",
                    "is not the resend token of a live code for this target",
                ))
            }
        };
        let keep = !silent(&challenge);
        self.deliver(application, target, &code, &policy, android_hash, keep)
            .await?;
        Ok(self.sent(&challenge.id, resend_token, &policy))
    }

    fn sent(&self, request_id: &str, resend_token: &str, policy: &OtpPolicy) -> SentCode {
        SentCode {
            request_id: request_id.to_owned(),
            resend_token: resend_token.to_owned(),
            resend_timer: policy.resend_timer_secs(),
        }
    }

    /// Checks `code` against the challenge `request_id`, answered by `requester`. The
    /// answer is counted before it is compared: against the code's own attempts from the
    /// requester's network (so a stranger cannot burn a shopper's live code), and against
    /// the target's guessing budgets across every code it was sent (per network, and in
    /// all unless the requester's device belongs to the target's own customer). The
    /// comparison runs in constant time; a correct answer for an `expected` challenge uses
    /// it up and is taken off the guessing budgets.
    pub async fn verify(
        &self,
        application: &Application,
        request_id: &str,
        code: &str,
        expected: Expected<'_>,
        requester: CodeClient<'_>,
    ) -> Result<ProvenCode, ServiceError> {
        if !otp::is_well_formed(code) || request_id.len() > 128 {
            return Err(ServiceError::InvalidOtp);
        }
        let policy = self.policy(application).await?;
        let now = self.clock.now();
        // The code's attempts are bounded per network below, and in all only as far as the
        // target's daily total, so a stranger cannot use them up before the shopper.
        let challenge = match self
            .store
            .claim_attempt(
                &application.id,
                request_id,
                policy.code_attempts_in_all(),
                now,
            )
            .await?
        {
            AttemptOutcome::Claimed(challenge) => challenge,
            AttemptOutcome::Exhausted => return Err(ServiceError::OtpAttemptsExhausted),
            AttemptOutcome::Unknown => return Err(ServiceError::InvalidOtp),
        };
        let known_device = self
            .known_device(application, &challenge.target, requester.device, now)
            .await?;
        let guesses = to_charges(policy.guess_budgets(
            application.id.as_str(),
            &challenge.target,
            requester.address,
            known_device.as_deref(),
        ));
        let mut counted = guesses.clone();
        counted.extend(to_charges(vec![
            policy.code_attempts_budget(&challenge.id, requester.address)
        ]));
        if let SendOutcome::OverBudget { scope, retry_at } =
            self.store.record_send(&counted, now).await?
        {
            crate::metrics::otp_send(Some(scope.as_str()));
            if scope == BudgetScope::CodeAttempts {
                return Err(ServiceError::OtpAttemptsExhausted);
            }
            return Err(ServiceError::GuessLimit {
                retry_after_secs: otp::seconds_until(retry_at, now),
            });
        }
        let binding = challenge.resend_digest.as_deref().unwrap_or(&challenge.id);
        let matches = secret::same(&self.code_hash(binding, code), &challenge.code_hash);
        if !matches || silent(&challenge) || !expected.admits(&challenge) {
            return Err(ServiceError::InvalidOtp);
        }
        let keys: Vec<String> = guesses.into_iter().map(|charge| charge.key).collect();
        self.store.refund_sends(&keys, now).await?;
        if !self
            .store
            .consume_challenge(&application.id, &challenge.id, now)
            .await?
        {
            return Err(ServiceError::InvalidOtp);
        }
        Ok(ProvenCode {
            request_id: challenge.id,
            purpose: challenge.purpose,
            target: challenge.target,
            customer_id: challenge.customer_id,
            context: challenge.context,
            sent_at: challenge.last_sent_at,
        })
    }

    /// [`Challenges::verify`] for the newest live challenge of `target` of an expected
    /// purpose (email codes are answered without a `request_id`).
    pub async fn verify_latest(
        &self,
        application: &Application,
        target: &OtpTarget,
        code: &str,
        expected: Expected<'_>,
        requester: CodeClient<'_>,
    ) -> Result<ProvenCode, ServiceError> {
        let latest = self
            .store
            .latest_challenge(
                &application.id,
                &target.key(),
                expected.purposes,
                self.clock.now(),
            )
            .await?
            .ok_or(ServiceError::InvalidOtp)?;
        self.verify(application, &latest.id, code, expected, requester)
            .await
    }

    /// Sends a verification link for `target` (of `customer_id`): its code is a 256-bit
    /// secret kept only as the challenge's id digest, valid for a day and once, counted
    /// against the send budgets like a code.
    pub async fn send_link(
        &self,
        application: &Application,
        target: &OtpTarget,
        customer_id: &ObjectId,
        link_base: &str,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        let policy = self.policy(application).await?;
        policy.check_target(target)?;
        let now = self.clock.now();
        let code = secret::generate_secret();
        let id = secret::digest(&code);
        let challenge = OtpChallenge {
            code_hash: self.code_hash(&id, "link"),
            id,
            application_id: application.id.clone(),
            purpose: OtpPurpose::ContactLink,
            target: target.key(),
            customer_id: Some(customer_id.clone()),
            context: None,
            resend_digest: None,
            attempts: 0,
            sends: 1,
            last_sent_at: now,
            created_at: now,
            expires_at: now + LINK_LIFETIME,
            used_at: None,
        };
        let charges = charges(&policy, application, target, client_address);
        if let SendOutcome::OverBudget { scope, retry_at } = self
            .store
            .create_challenge(&challenge, &charges, now)
            .await?
        {
            return Err(ServiceError::SendLimit {
                scope,
                retry_after_secs: otp::seconds_until(retry_at, now),
            });
        }
        let separator = if link_base.contains('?') { '&' } else { '?' };
        let mut data = Map::new();
        data.insert(
            "link".into(),
            json!(format!("{link_base}{separator}code={code}")),
        );
        data.insert("code".into(), json!(code));
        data.insert("application".into(), json!(application.name));
        data.insert("hours".into(), json!(LINK_LIFETIME.num_hours()));
        let (channel, template) = match target {
            OtpTarget::Mobile(_) => (Channel::Sms, "verify_mobile_link"),
            OtpTarget::Email(_) => (Channel::Email, "verify_email_link"),
        };
        self.notifications
            .send(application, channel, &target.key(), template, data)
            .await
    }

    /// Spends the code of a verification link; returns what it proves.
    pub async fn verify_link(
        &self,
        application: &Application,
        code: &str,
    ) -> Result<ProvenCode, ServiceError> {
        if code.len() > 128 {
            return Err(ServiceError::InvalidLink);
        }
        let proven = self
            .spend(application, &secret::digest(code), OtpPurpose::ContactLink)
            .await?;
        proven.ok_or(ServiceError::InvalidLink)
    }

    /// A short-lived, single-use proof that `customer_id` just verified their primary
    /// `entity` (`mobile` or `email`); handed out as the next step's `request_id`.
    pub async fn grant_primary_change(
        &self,
        application: &Application,
        customer_id: &ObjectId,
        entity: &str,
    ) -> Result<String, ServiceError> {
        let policy = self.policy(application).await?;
        let now = self.clock.now();
        let grant = secret::generate_secret();
        let id = secret::digest(&grant);
        let challenge = OtpChallenge {
            code_hash: self.code_hash(&id, "grant"),
            id,
            application_id: application.id.clone(),
            purpose: OtpPurpose::PrimaryGrant,
            target: entity.to_owned(),
            customer_id: Some(customer_id.clone()),
            context: None,
            resend_digest: None,
            attempts: 0,
            sends: 0,
            last_sent_at: now,
            created_at: now,
            expires_at: now + policy.lifetime,
            used_at: None,
        };
        self.store.create_challenge(&challenge, &[], now).await?;
        Ok(grant)
    }

    /// Spends a proof made by [`Challenges::grant_primary_change`] for this customer and
    /// entity; refused when it is unknown, expired, used or someone else's.
    pub async fn spend_primary_grant(
        &self,
        application: &Application,
        grant: &str,
        customer_id: &ObjectId,
        entity: &str,
    ) -> Result<(), ServiceError> {
        let refused = || {
            ServiceError::invalid(
                "request_id",
                "is not a current proof of the primary contact: verify it again",
            )
        };
        if grant.len() > 128 {
            return Err(refused());
        }
        let now = self.clock.now();
        let policy = self.policy(application).await?;
        let id = secret::digest(grant);
        let AttemptOutcome::Claimed(challenge) = self
            .store
            .claim_attempt(&application.id, &id, policy.max_attempts, now)
            .await?
        else {
            return Err(refused());
        };
        let fits = challenge.purpose == OtpPurpose::PrimaryGrant
            && challenge.customer_id.as_ref() == Some(customer_id)
            && challenge.target == entity;
        if !fits
            || !self
                .store
                .consume_challenge(&application.id, &id, now)
                .await?
        {
            return Err(refused());
        }
        Ok(())
    }

    /// Counts a text message that is no challenge (a reset link) against the budgets of
    /// `target`; refused, and nothing counted, when one is spent.
    pub async fn charge_send(
        &self,
        application: &Application,
        target: &OtpTarget,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        let policy = self.policy(application).await?;
        policy.check_target(target)?;
        self.charge(&charges(&policy, application, target, client_address))
            .await
    }

    /// Counts a request that can tell whether a contact is taken — a registration that
    /// creates an account at once (before its password is hashed), a signed-in shopper
    /// adding or proving a contact — against the client network's lookup budget (the OTP
    /// per-address budget in size, counted on its own); refused, and nothing counted, when
    /// spent. The answer "taken" is so rationed per network, as codes are.
    pub async fn charge_lookup(
        &self,
        application: &Application,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        let policy = self.policy(application).await?;
        self.charge(&[BudgetCharge {
            scope: BudgetScope::ClientAddress,
            key: format!("r:{}:{}", application.id, otp::address_key(client_address)),
            limit: policy.per_address.limit,
            window: policy.per_address.window,
        }])
        .await
    }

    /// Records one use against each of `charges`, or none when one is spent (a
    /// `SendLimit` refusal naming it).
    async fn charge(&self, charges: &[BudgetCharge]) -> Result<(), ServiceError> {
        let now = self.clock.now();
        match self.store.record_send(charges, now).await? {
            SendOutcome::Sent => Ok(()),
            SendOutcome::OverBudget { scope, retry_at } => Err(ServiceError::SendLimit {
                scope,
                retry_after_secs: otp::seconds_until(retry_at, now),
            }),
        }
    }

    /// Claims and uses the live challenge `id` of `purpose`, without a code (links and
    /// grants, whose id is the digest of their secret).
    async fn spend(
        &self,
        application: &Application,
        id: &str,
        purpose: OtpPurpose,
    ) -> Result<Option<ProvenCode>, ServiceError> {
        let now = self.clock.now();
        let policy = self.policy(application).await?;
        let AttemptOutcome::Claimed(challenge) = self
            .store
            .claim_attempt(&application.id, id, policy.max_attempts, now)
            .await?
        else {
            return Ok(None);
        };
        if challenge.purpose != purpose
            || !self
                .store
                .consume_challenge(&application.id, id, now)
                .await?
        {
            return Ok(None);
        }
        Ok(Some(ProvenCode {
            request_id: challenge.id,
            purpose: challenge.purpose,
            target: challenge.target,
            customer_id: challenge.customer_id,
            context: challenge.context,
            sent_at: challenge.last_sent_at,
        }))
    }

    /// The budgets a send to `target` counts against: the device's own (and the target's)
    /// when the requester's device belongs to the customer who proved `target`, else the
    /// anonymous ones of the target, the client network and the application.
    async fn send_charges(
        &self,
        policy: &OtpPolicy,
        application: &Application,
        target: &OtpTarget,
        requester: CodeClient<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<BudgetCharge>, ServiceError> {
        if let Some(device) = requester.device {
            let digest = device.digest();
            if self
                .store
                .device_holds_target(&application.id, &digest, target, now)
                .await?
            {
                return Ok(to_charges(policy.device_budgets(
                    application.id.as_str(),
                    target,
                    &digest,
                )));
            }
        }
        Ok(charges(policy, application, target, requester.address))
    }

    /// The digest of `device` when it belongs to the customer who proved the target
    /// `target_key`.
    async fn known_device(
        &self,
        application: &Application,
        target_key: &str,
        device: Option<&DeviceToken>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<String>, ServiceError> {
        let Some(device) = device else {
            return Ok(None);
        };
        let Ok(target) = target_of(target_key, application.default_region) else {
            return Ok(None);
        };
        let digest = device.digest();
        let known = self
            .store
            .device_holds_target(&application.id, &digest, &target, now)
            .await?;
        Ok(known.then_some(digest))
    }

    /// The stored form of `code`: keyed, and bound to its challenge (by the digest of the
    /// challenge's resend token, which a resend keeps).
    fn code_hash(&self, binding: &str, code: &str) -> String {
        self.secrets.mac(&["otp", binding, code])
    }

    /// Queues the message carrying `code` to `target` — or, unless `keep`, renders and
    /// writes it in a transaction that is rolled back, so a code for an unknown account
    /// costs the same statements as one for a customer and leaves nothing.
    async fn deliver(
        &self,
        application: &Application,
        target: &OtpTarget,
        code: &str,
        policy: &OtpPolicy,
        android_hash: Option<&str>,
        keep: bool,
    ) -> Result<(), ServiceError> {
        let mut data = Map::new();
        data.insert("otp".into(), json!(code));
        data.insert("application".into(), json!(application.name));
        data.insert(
            "minutes".into(),
            json!(policy.lifetime.num_minutes().max(1)),
        );
        let channel = match target {
            OtpTarget::Mobile(_) => Channel::Sms,
            OtpTarget::Email(_) => Channel::Email,
        };
        if let (Channel::Sms, Some(hash)) = (channel, android_hash) {
            data.insert("android_hash".into(), json!(hash));
        }
        self.notifications
            .send_or_discard(
                application,
                channel,
                &target.key(),
                target.template(),
                data,
                keep,
            )
            .await
    }
}

/// A challenge recorded for an unknown account: it never went out and never verifies.
fn silent(challenge: &OtpChallenge) -> bool {
    challenge.purpose == OtpPurpose::ForgotPassword && challenge.customer_id.is_none()
}

/// Budgets as the store charges them.
fn to_charges(budgets: Vec<(BudgetScope, String, otp::Budget)>) -> Vec<BudgetCharge> {
    budgets
        .into_iter()
        .map(|(scope, key, budget)| BudgetCharge {
            scope,
            key,
            limit: budget.limit,
            window: budget.window,
        })
        .collect()
}

/// The budgets a send counts against, as the store charges them.
fn charges(
    policy: &OtpPolicy,
    application: &Application,
    target: &OtpTarget,
    client_address: &str,
) -> Vec<BudgetCharge> {
    to_charges(policy.budgets(application.id.as_str(), target, client_address))
}
