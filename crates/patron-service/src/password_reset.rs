//! Password reset by link (email, or text message): sending the link, checking a code, and
//! spending it on a new password (optionally signing in).

use std::sync::Arc;

use chrono::Duration;
use patron_domain::contacts::Contact;
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::notification::Channel;
use patron_domain::otp::OtpTarget;
use patron_domain::password::PasswordPolicy;
use patron_domain::phone::Phone;
use patron_domain::secret;
use patron_store::{
    Actor, Application, CredentialStore, CustomerStore, Entity, NewResetCode, PasswordChange,
    StoreError,
};
use serde_json::{json, Map};

use super::{
    customer_actor, AuthConfigs, Challenges, Feature, Notifications, Origin, Passwords,
    ServiceError, Sessions, SignedIn,
};
use crate::clock::Clock;
use crate::hasher::PasswordHasher;

/// Where a reset link goes.
#[derive(Debug, Clone, Copy)]
enum Recipient<'a> {
    Email(&'a Email),
    Phone(&'a Phone),
}

/// How long a reset code stays valid.
const CODE_LIFETIME: Duration = Duration::minutes(30);

/// The error for a code that is unknown, expired, used, or whose customer is gone.
fn unusable_code() -> ServiceError {
    StoreError::not_found(Entity::ResetCode, "").into()
}

/// Password resets.
#[derive(Clone)]
pub struct PasswordResets {
    default_link_base: String,
    credentials: Arc<dyn CredentialStore>,
    customers: Arc<dyn CustomerStore>,
    hasher: PasswordHasher,
    configs: AuthConfigs,
    passwords: Passwords,
    sessions: Sessions,
    notifications: Notifications,
    challenges: Challenges,
    clock: Arc<dyn Clock>,
}

/// What [`PasswordResets`] is built from.
pub struct PasswordResetParts {
    /// Where links point when the application configures no `password_reset_url`.
    pub default_link_base: String,
    /// Passwords and reset codes.
    pub credentials: Arc<dyn CredentialStore>,
    /// Customers (to answer a signed-in reset).
    pub customers: Arc<dyn CustomerStore>,
    /// The hasher.
    pub hasher: PasswordHasher,
    /// Authentication configurations.
    pub configs: AuthConfigs,
    /// The password rules (history).
    pub passwords: Passwords,
    /// Sessions (to sign in after a reset).
    pub sessions: Sessions,
    /// Messages (the link).
    pub notifications: Notifications,
    /// Send budgets (links by text message count against them).
    pub challenges: Challenges,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

impl PasswordResets {
    /// Resets over the given parts.
    pub fn new(parts: PasswordResetParts) -> Self {
        Self {
            default_link_base: parts.default_link_base,
            credentials: parts.credentials,
            customers: parts.customers,
            hasher: parts.hasher,
            configs: parts.configs,
            passwords: parts.passwords,
            sessions: parts.sessions,
            notifications: parts.notifications,
            challenges: parts.challenges,
            clock: parts.clock,
        }
    }

    /// Sends a reset link when `email` belongs to an active customer, and succeeds the same
    /// either way — with the same work: a code drawn, the message rendered and both written
    /// in a transaction that is kept only for a customer — so the call cannot be used to
    /// discover accounts, by its answer or by its time. The link points at the
    /// application's `password_reset_url`, else at the server's public URL — never at a
    /// host the request named.
    ///
    /// Each request counts against the send budgets of the address, the client and the
    /// application, known address or not, so reset mail cannot be used to bomb a mailbox.
    pub async fn send_link(
        &self,
        application: &Application,
        email: &Email,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        self.challenges
            .charge_send(
                application,
                &OtpTarget::Email(email.clone()),
                client_address,
            )
            .await?;
        self.send_to(application, Recipient::Email(email)).await
    }

    /// [`PasswordResets::send_link`] by text message (`sendResetPasswordMobile`): the send
    /// counts against the OTP send budgets of the number and the client, known or not.
    pub async fn send_sms_link(
        &self,
        application: &Application,
        phone: &Phone,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        self.challenges
            .charge_send(
                application,
                &OtpTarget::Mobile(phone.clone()),
                client_address,
            )
            .await?;
        self.send_to(application, Recipient::Phone(phone)).await
    }

    async fn send_to(
        &self,
        application: &Application,
        recipient: Recipient<'_>,
    ) -> Result<(), ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.forgot_password_enabled() {
            return Err(ServiceError::Disabled(Feature::ForgotPassword));
        }
        let (email, phone) = match recipient {
            Recipient::Email(email) => (Some(email), None),
            Recipient::Phone(phone) => (None, Some(phone)),
        };
        let found = self
            .credentials
            .find_login(&application.id, email, phone)
            .await?;
        // A customer who may reset, or no one: either way the same steps run, and only a
        // customer's code and message are kept.
        // The contact must be one the customer proved: a reset by an address someone
        // registered without proving it would hand its owner the registrant's account.
        let contact = match recipient {
            Recipient::Email(email) => Contact::Email(email.clone()),
            Recipient::Phone(phone) => Contact::Phone(phone.clone()),
        };
        let customer = found.filter(|record| {
            record.customer.active
                && record.customer.deletion.is_none()
                && contact.held_by(&record.customer) == Some(true)
        });
        let code = secret::generate_secret();
        let base = config
            .password_reset_url()
            .unwrap_or(&self.default_link_base);
        let separator = if base.contains('?') { '&' } else { '?' };
        let first_name = customer
            .as_ref()
            .and_then(|record| record.customer.profile.first_name.clone())
            .unwrap_or_default();
        let data = json!({
            "first_name": first_name,
            "application": application.name,
            "link": format!("{base}{separator}code={code}"),
            "code": code,
            "minutes": CODE_LIFETIME.num_minutes(),
        });
        let data: Map<_, _> = data.as_object().cloned().unwrap_or_default();
        let (channel, to, template) = match recipient {
            Recipient::Email(email) => (Channel::Email, email.to_string(), "reset_password"),
            Recipient::Phone(phone) => (Channel::Sms, phone.to_string(), "reset_password_sms"),
        };
        let message = self
            .notifications
            .prepare(application, channel, &to, template, data)
            .await?;
        let now = self.clock.now();
        let digest = secret::digest(&code);
        let new_code = NewResetCode {
            code_digest: &digest,
            created_at: now,
            expires_at: now + CODE_LIFETIME,
        };
        let customer_id = customer.as_ref().map(|record| &record.customer.id);
        self.credentials
            .issue_reset_link(&application.id, customer_id, &new_code, &message)
            .await?;
        Ok(())
    }

    /// A new single-use reset code for the customer (30 minutes; only its digest is kept):
    /// the link's `code`, and the `forgot_token` of the OTP flow.
    pub async fn issue_code(
        &self,
        application: &Application,
        customer_id: &ObjectId,
    ) -> Result<String, ServiceError> {
        let code = secret::generate_secret();
        let now = self.clock.now();
        self.credentials
            .create_reset_code(
                &application.id,
                customer_id,
                &secret::digest(&code),
                now,
                now + CODE_LIFETIME,
            )
            .await?;
        Ok(code)
    }

    /// Checks a code without spending it.
    pub async fn check(&self, application: &Application, code: &str) -> Result<(), ServiceError> {
        self.credentials
            .find_reset_code(&application.id, &secret::digest(code), self.clock.now())
            .await?
            .ok_or_else(unusable_code)?;
        Ok(())
    }

    /// Spends `code` on `password` (policy and history apply): the lockout clears and every
    /// session of the customer ends. Returns the customer's id.
    pub async fn reset(
        &self,
        application: &Application,
        code: &str,
        password: String,
    ) -> Result<ObjectId, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.forgot_password_enabled() {
            return Err(ServiceError::Disabled(Feature::ForgotPassword));
        }
        let now = self.clock.now();
        let digest = secret::digest(code);
        let customer_id = self
            .credentials
            .find_reset_code(&application.id, &digest, now)
            .await?
            .ok_or_else(unusable_code)?;
        let policy = PasswordPolicy::from_config(&config);
        policy.check(&password)?;
        let hashes = self
            .credentials
            .password_hashes(&customer_id, policy.history)
            .await?;
        self.passwords
            .ensure_not_reused("password", &password, &hashes, policy.history)
            .await?;
        let hash = self.hasher.hash(password).await?;
        let change = PasswordChange {
            password_hash: &hash,
            history_limit: policy.history,
            keep_session: None,
        };
        let actor = Actor::new(customer_actor(&customer_id))
            .with_reason("password reset by email link", None);
        Ok(self
            .credentials
            .reset_password(&application.id, &digest, &change, &actor, now)
            .await?)
    }

    /// [`PasswordResets::reset`], then signs the customer in.
    pub async fn reset_and_sign_in(
        &self,
        application: &Application,
        code: &str,
        password: String,
        origin: Origin,
    ) -> Result<SignedIn, ServiceError> {
        let customer_id = self.reset(application, code, password).await?;
        let session = self
            .sessions
            .sign_in(application, &customer_id, origin)
            .await?;
        let customer = self
            .customers
            .find_customer(&application.id, &customer_id)
            .await?
            .ok_or_else(unusable_code)?;
        Ok(SignedIn { customer, session })
    }
}
