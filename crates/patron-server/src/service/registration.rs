//! Self-registration (`registerWithForm`) and the `userExists` lookup.

use std::sync::Arc;

use chrono::Duration;
use patron_domain::customer::{Customer, Profile};
use patron_domain::email::Email;
use patron_domain::password::PasswordPolicy;
use patron_domain::phone::Phone;
use patron_domain::secret;
use patron_store::{Actor, Application, Conflict, CredentialStore, PendingRegistration};
use serde::Serialize;

use super::{
    AuthConfigs, CustomerDraft, Customers, Feature, Origin, ServiceError, Sessions, StartedSession,
};
use crate::clock::Clock;
use crate::passwords::PasswordHasher;

/// How long a registration may wait for its OTP verification.
const PENDING_LIFETIME: Duration = Duration::minutes(30);

/// A registration form, its fields parsed.
#[derive(Debug, Clone, Default)]
pub struct RegistrationForm {
    /// Names and gender.
    pub profile: Profile,
    /// The email, if given.
    pub email: Option<Email>,
    /// The mobile, if given.
    pub phone: Option<Phone>,
    /// The chosen password, if given.
    pub password: Option<String>,
    /// Whether the shopper consented to the terms.
    pub consent: bool,
}

/// What a registration led to.
#[derive(Debug, Clone)]
pub enum Registered {
    /// The contacts must be verified by OTP first; the registration waits under
    /// `register_token`.
    Pending {
        /// The secret the storefront completes the registration with.
        register_token: String,
        /// Whether the email needs an OTP.
        verify_email: bool,
        /// Whether the mobile needs an OTP.
        verify_mobile: bool,
    },
    /// The customer was created and signed in.
    SignedIn {
        /// The new customer.
        customer: Box<Customer>,
        /// Their session.
        session: StartedSession,
    },
}

/// What a pending registration keeps until its contacts are verified.
#[derive(Debug, Clone, Serialize)]
pub struct PendingPayload {
    /// Names and gender.
    pub profile: PendingProfile,
    /// The email.
    pub email: Option<String>,
    /// The mobile.
    pub phone: Option<PendingPhone>,
    /// The argon2id hash of the chosen password.
    pub password_hash: Option<String>,
    /// Whether the shopper consented to the terms.
    pub consent: bool,
}

/// The profile fields a registration form carries.
#[derive(Debug, Clone, Serialize)]
pub struct PendingProfile {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Gender.
    pub gender: Option<String>,
}

/// A mobile number of a pending registration.
#[derive(Debug, Clone, Serialize)]
pub struct PendingPhone {
    /// Numeric country code.
    pub country_code: u16,
    /// National number.
    pub national: String,
}

/// Self-registration.
#[derive(Clone)]
pub struct Registration {
    customers: Customers,
    credentials: Arc<dyn CredentialStore>,
    hasher: PasswordHasher,
    configs: AuthConfigs,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
}

impl Registration {
    /// Registration creating customers through `customers`.
    pub fn new(
        customers: Customers,
        credentials: Arc<dyn CredentialStore>,
        hasher: PasswordHasher,
        configs: AuthConfigs,
        sessions: Sessions,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            customers,
            credentials,
            hasher,
            configs,
            sessions,
            clock,
        }
    }

    /// Registers a shopper as the application's rules say: required fields and the
    /// password policy first, then taken contacts; contacts that must be verified park the
    /// registration (30 minutes) for the OTP flow, otherwise the customer is created
    /// (contacts unverified) and signed in.
    pub async fn register(
        &self,
        application: &Application,
        form: RegistrationForm,
        origin: Origin,
    ) -> Result<Registered, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.registration_enabled() {
            return Err(ServiceError::Disabled(Feature::Registration));
        }
        let rules = config.registration_rules();
        if rules.email.required && form.email.is_none() {
            return Err(ServiceError::invalid("email", "is required"));
        }
        if rules.mobile.required && form.phone.is_none() {
            return Err(ServiceError::invalid("phone.mobile", "is required"));
        }
        if rules.password && form.password.is_none() {
            return Err(ServiceError::invalid("password", "is required"));
        }
        if let Some(password) = &form.password {
            PasswordPolicy::from_config(&config).check(password)?;
        }
        self.ensure_contacts_free(application, &form).await?;
        let password_hash = match form.password {
            Some(password) => Some(self.hasher.hash(password).await?),
            None => None,
        };
        let verify_email = rules.email.verified && form.email.is_some();
        let verify_mobile = rules.mobile.verified && form.phone.is_some();
        if verify_email || verify_mobile {
            let register_token = secret::generate_secret();
            let payload = PendingPayload {
                profile: PendingProfile {
                    first_name: form.profile.first_name,
                    last_name: form.profile.last_name,
                    gender: form.profile.gender,
                },
                email: form.email.as_ref().map(ToString::to_string),
                phone: form.phone.as_ref().map(|phone| PendingPhone {
                    country_code: phone.country_code(),
                    national: phone.national().to_owned(),
                }),
                password_hash,
                consent: form.consent,
            };
            let now = self.clock.now();
            let pending = PendingRegistration {
                token_digest: secret::digest(&register_token),
                application_id: application.id.clone(),
                payload: serde_json::to_value(payload)
                    .map_err(|error| ServiceError::Internal(error.to_string()))?,
                created_at: now,
                expires_at: now + PENDING_LIFETIME,
            };
            self.credentials.save_pending_registration(&pending).await?;
            return Ok(Registered::Pending {
                register_token,
                verify_email,
                verify_mobile,
            });
        }
        let draft = CustomerDraft {
            username: None,
            profile: form.profile,
            email: form.email,
            phone: form.phone,
            verified_contacts: false,
            password_hash,
        };
        let actor = Actor::new("storefront").with_reason("self-registration", None);
        let customer = self
            .customers
            .create(&application.id, draft, &actor)
            .await?;
        let session = self
            .sessions
            .sign_in(application, &customer.id, origin)
            .await?;
        Ok(Registered::SignedIn {
            customer: Box::new(customer),
            session,
        })
    }

    /// Refuses the form when a live customer holds its email or mobile (naming which),
    /// before any password is hashed.
    async fn ensure_contacts_free(
        &self,
        application: &Application,
        form: &RegistrationForm,
    ) -> Result<(), ServiceError> {
        let taken = self
            .customers
            .find_by_contacts(
                &application.id,
                form.email.as_slice(),
                form.phone.as_slice(),
            )
            .await?;
        let Some(holder) = taken.first() else {
            return Ok(());
        };
        let email_taken = form
            .email
            .as_ref()
            .is_some_and(|e| holder.emails.iter().any(|entry| entry.email == *e));
        let conflict = match (&form.email, &form.phone) {
            (Some(email), _) if email_taken => Conflict::Email(email.to_string()),
            (_, Some(phone)) => Conflict::Phone(phone.to_string()),
            (email, None) => {
                Conflict::Email(email.as_ref().map(ToString::to_string).unwrap_or_default())
            }
        };
        Err(patron_store::StoreError::Conflict(conflict).into())
    }

    /// Whether a live customer of the application has this email or phone (any spelling);
    /// text that is neither matches no one.
    pub async fn user_exists(
        &self,
        application: &Application,
        email_or_phone: &str,
    ) -> Result<bool, ServiceError> {
        let (emails, phones): (Vec<Email>, Vec<Phone>) = if email_or_phone.contains('@') {
            (
                Email::parse("q", email_or_phone).ok().into_iter().collect(),
                Vec::new(),
            )
        } else {
            let region = application.default_region;
            (
                Vec::new(),
                Phone::parse("q", email_or_phone, None, region)
                    .ok()
                    .into_iter()
                    .collect(),
            )
        };
        let found = self
            .customers
            .find_by_contacts(&application.id, &emails, &phones)
            .await?;
        Ok(!found.is_empty())
    }
}
