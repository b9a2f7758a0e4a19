//! Self-registration (`registerWithForm`) and the `userExists` lookup.

use std::sync::Arc;

use chrono::Duration;
use patron_domain::contacts::Contact;
use patron_domain::customer::{Customer, Profile};
use patron_domain::email::Email;
use patron_domain::otp::{OtpPurpose, OtpTarget};
use patron_domain::password::PasswordPolicy;
use patron_domain::phone::{Phone, Region};
use patron_domain::secret;
use patron_store::{
    Actor, Application, Conflict, CredentialStore, PendingRegistration, StoreError,
};
use serde::{Deserialize, Serialize};

use super::{
    AuthConfigs, Challenges, CodeRequest, CustomerDraft, Customers, Feature, Origin, ProvenCode,
    SentCode, ServiceError, Sessions, SignedIn, StartedSession,
};
use crate::clock::Clock;
use crate::hasher::PasswordHasher;

/// How long a registration may wait for its OTP verification.
const PENDING_LIFETIME: Duration = Duration::minutes(30);
/// How long a shopper who proved an unknown contact has to complete their profile.
const SIGN_UP_LIFETIME: Duration = Duration::hours(1);

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
        /// The code sent to the email, when it must be verified.
        email_code: Option<SentCode>,
        /// The code sent to the mobile, when it must be verified.
        mobile_code: Option<SentCode>,
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Whether the email must be proven before the account exists.
    #[serde(default)]
    pub verify_email: bool,
    /// Whether the mobile must be proven before the account exists.
    #[serde(default)]
    pub verify_mobile: bool,
    /// The social identity that started the sign-up (linked to the new customer).
    #[serde(default)]
    pub social: Option<SocialLink>,
}

/// A provider's subject to link to the customer a sign-up creates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SocialLink {
    /// `google`, `apple` or `facebook`.
    pub provider: String,
    /// The provider's id of the person.
    pub subject: String,
}

impl PendingPayload {
    /// The email and phone, read back as domain values.
    fn contacts(&self, region: Region) -> Result<(Option<Email>, Option<Phone>), ServiceError> {
        let email = self
            .email
            .as_deref()
            .map(|email| Email::parse("email", email))
            .transpose()?;
        let phone = self
            .phone
            .as_ref()
            .map(|phone| {
                Phone::parse(
                    "phone.mobile",
                    &phone.national,
                    Some(phone.country_code),
                    region,
                )
            })
            .transpose()?;
        Ok((email, phone))
    }
}

/// The profile fields a registration form carries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PendingProfile {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Gender.
    pub gender: Option<String>,
}

/// A mobile number of a pending registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    challenges: Challenges,
    clock: Arc<dyn Clock>,
}

/// What [`Registration`] is built from.
pub struct RegistrationParts {
    /// The one creation path.
    pub customers: Customers,
    /// Passwords and pending registrations.
    pub credentials: Arc<dyn CredentialStore>,
    /// The hasher.
    pub hasher: PasswordHasher,
    /// Authentication configurations.
    pub configs: AuthConfigs,
    /// Sessions (a completed registration signs in).
    pub sessions: Sessions,
    /// One-time passwords (to verify contacts).
    pub challenges: Challenges,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

impl Registration {
    /// Registration over the given parts.
    pub fn new(parts: RegistrationParts) -> Self {
        Self {
            customers: parts.customers,
            credentials: parts.credentials,
            hasher: parts.hasher,
            configs: parts.configs,
            sessions: parts.sessions,
            challenges: parts.challenges,
            clock: parts.clock,
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
        // A contact someone proved is taken; one held unproven elsewhere is not refused, but
        // the registrant must prove it (then it moves to them).
        let (email_held, phone_held) = self
            .holders(application, form.email.as_ref(), form.phone.as_ref())
            .await?;
        if let (Some(email), Some(true)) = (&form.email, email_held) {
            return Err(StoreError::Conflict(Conflict::Email(email.to_string())).into());
        }
        if let (Some(phone), Some(true)) = (&form.phone, phone_held) {
            return Err(StoreError::Conflict(Conflict::Phone(phone.to_string())).into());
        }
        let verify_email = form.email.is_some() && (rules.email.verified || email_held.is_some());
        let verify_mobile = form.phone.is_some() && (rules.mobile.verified || phone_held.is_some());
        if verify_email || verify_mobile {
            // The codes go out first: their budgets are charged before any password is
            // hashed, so a flood refused with 429 costs no argon2id.
            let register_token = secret::generate_secret();
            let context = Some(secret::digest(&register_token));
            let send = |target: OtpTarget| CodeRequest {
                purpose: OtpPurpose::Register,
                target,
                customer_id: None,
                context: context.clone(),
                client_address: &origin.ip,
                android_hash: None,
                device: None,
                deliver: true,
            };
            let mobile_code = match form.phone.clone().filter(|_| verify_mobile) {
                Some(phone) => Some(
                    self.challenges
                        .send(application, send(OtpTarget::Mobile(phone)))
                        .await?,
                ),
                None => None,
            };
            let email_code = match form.email.clone().filter(|_| verify_email) {
                Some(email) => Some(
                    self.challenges
                        .send(application, send(OtpTarget::Email(email)))
                        .await?,
                ),
                None => None,
            };
            let password_hash = match form.password {
                Some(password) => Some(self.hasher.hash(password).await?),
                None => None,
            };
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
                verify_email,
                verify_mobile,
                social: None,
            };
            self.save_pending(
                application,
                &register_token,
                &payload,
                PENDING_LIFETIME,
                (false, false),
            )
            .await?;
            return Ok(Registered::Pending {
                register_token,
                email_code,
                mobile_code,
            });
        }
        self.challenges
            .charge_lookup(application, &origin.ip)
            .await?;
        let password_hash = match form.password {
            Some(password) => Some(self.hasher.hash(password).await?),
            None => None,
        };
        let draft = CustomerDraft {
            username: None,
            profile: form.profile,
            email: form.email,
            phone: form.phone,
            email_verified: false,
            phone_verified: false,
            password_hash,
            proven_by_shopper: false,
        };
        let SignedIn { customer, session } = self
            .create_and_sign_in(application, draft, "self-registration", origin)
            .await?;
        Ok(Registered::SignedIn {
            customer: Box::new(customer),
            session,
        })
    }

    /// For the email and the phone: whether a live customer holds it (`Some`), and whether
    /// they proved it.
    async fn holders(
        &self,
        application: &Application,
        email: Option<&Email>,
        phone: Option<&Phone>,
    ) -> Result<(Option<bool>, Option<bool>), ServiceError> {
        let held = |contact: Option<Contact>| async move {
            match contact {
                Some(contact) => Ok::<_, ServiceError>(
                    self.customers
                        .holder(&application.id, &contact)
                        .await?
                        .map(|(_, proven)| proven),
                ),
                None => Ok(None),
            }
        };
        Ok((
            held(email.cloned().map(Contact::Email)).await?,
            held(phone.cloned().map(Contact::Phone)).await?,
        ))
    }

    /// Refuses, before the customer is created, a contact another live customer proved,
    /// and one the shopper has not proven that anyone holds (naming which). A contact the
    /// shopper proved and another holds unproven goes to the shopper at creation.
    async fn ensure_contacts_free(
        &self,
        application: &Application,
        draft: &CustomerDraft,
    ) -> Result<(), ServiceError> {
        let (email_held, phone_held) = self
            .holders(application, draft.email.as_ref(), draft.phone.as_ref())
            .await?;
        let refused = |held: Option<bool>, proven: bool| match held {
            Some(holder_proved) => holder_proved || !proven,
            None => false,
        };
        if let Some(email) = draft
            .email
            .as_ref()
            .filter(|_| refused(email_held, draft.email_verified))
        {
            return Err(StoreError::Conflict(Conflict::Email(email.to_string())).into());
        }
        if let Some(phone) = draft
            .phone
            .as_ref()
            .filter(|_| refused(phone_held, draft.phone_verified))
        {
            return Err(StoreError::Conflict(Conflict::Phone(phone.to_string())).into());
        }
        Ok(())
    }

    /// Saves a pending registration of `payload` under `register_token` for `lifetime`,
    /// with the contacts already proven (`(email, mobile)`).
    async fn save_pending(
        &self,
        application: &Application,
        register_token: &str,
        payload: &PendingPayload,
        lifetime: Duration,
        (email_verified, mobile_verified): (bool, bool),
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let pending = PendingRegistration {
            token_digest: secret::digest(register_token),
            application_id: application.id.clone(),
            payload: serde_json::to_value(payload)
                .map_err(|error| ServiceError::Internal(error.to_string()))?,
            created_at: now,
            expires_at: now + lifetime,
            email_verified,
            mobile_verified,
        };
        self.credentials.save_pending_registration(&pending).await?;
        Ok(())
    }

    /// [`Registration::save_pending`] under a new token, which it returns.
    async fn save_new_pending(
        &self,
        application: &Application,
        payload: &PendingPayload,
        lifetime: Duration,
        proven: (bool, bool),
    ) -> Result<String, ServiceError> {
        let register_token = secret::generate_secret();
        self.save_pending(application, &register_token, payload, lifetime, proven)
            .await?;
        Ok(register_token)
    }

    /// The email and phone of the unexpired pending registration `register_token`.
    pub async fn pending_contacts(
        &self,
        application: &Application,
        register_token: &str,
    ) -> Result<(Option<Email>, Option<Phone>), ServiceError> {
        let pending = self
            .credentials
            .find_pending_registration(
                &application.id,
                &secret::digest(register_token),
                self.clock.now(),
            )
            .await?
            .ok_or(ServiceError::InvalidRegisterToken)?;
        let payload: PendingPayload = serde_json::from_value(pending.payload)
            .map_err(|_| ServiceError::InvalidRegisterToken)?;
        payload.contacts(application.default_region)
    }

    /// A shopper proved a contact no customer holds: a sign-up starts, waiting (one hour)
    /// under the returned token for `updateProfile` to complete it.
    pub async fn start_sign_up(
        &self,
        application: &Application,
        proven: &OtpTarget,
    ) -> Result<String, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.registration_enabled() {
            return Err(ServiceError::Disabled(Feature::Registration));
        }
        let mut payload = PendingPayload::default();
        let verified = match proven {
            OtpTarget::Email(email) => {
                payload.email = Some(email.to_string());
                (true, false)
            }
            OtpTarget::Mobile(phone) => {
                payload.phone = Some(PendingPhone {
                    country_code: phone.country_code(),
                    national: phone.national().to_owned(),
                });
                (false, true)
            }
        };
        self.save_new_pending(application, &payload, SIGN_UP_LIFETIME, verified)
            .await
    }

    /// Records a code proven for the registration `register_token` (the code must have been
    /// sent for it). When every contact that must be proven is, the customer is created and
    /// signed in; otherwise `None` (the registration waits for its other code).
    pub async fn prove_contact(
        &self,
        application: &Application,
        register_token: &str,
        proven: &ProvenCode,
        origin: Origin,
    ) -> Result<Option<SignedIn>, ServiceError> {
        let digest = secret::digest(register_token);
        if proven.context.as_deref() != Some(digest.as_str()) {
            return Err(ServiceError::InvalidRegisterToken);
        }
        let now = self.clock.now();
        let pending = self
            .credentials
            .find_pending_registration(&application.id, &digest, now)
            .await?
            .ok_or(ServiceError::InvalidRegisterToken)?;
        let payload: PendingPayload = serde_json::from_value(pending.payload)
            .map_err(|_| ServiceError::InvalidRegisterToken)?;
        let is_email = payload.email.as_deref() == Some(proven.target.as_str());
        let pending = self
            .credentials
            .mark_pending_verified(&application.id, &digest, is_email, now)
            .await?
            .ok_or(ServiceError::InvalidRegisterToken)?;
        let complete = (!payload.verify_email || pending.email_verified)
            && (!payload.verify_mobile || pending.mobile_verified);
        if !complete {
            return Ok(None);
        }
        let Some(pending) = self
            .credentials
            .take_pending_registration(&application.id, &digest, now)
            .await?
        else {
            // Another request completed it a moment ago.
            return Err(ServiceError::InvalidRegisterToken);
        };
        let (email, phone) = payload.contacts(application.default_region)?;
        let draft = CustomerDraft {
            username: None,
            profile: Profile {
                first_name: payload.profile.first_name,
                last_name: payload.profile.last_name,
                gender: payload.profile.gender,
                ..Profile::default()
            },
            email,
            phone,
            email_verified: pending.email_verified,
            phone_verified: pending.mobile_verified,
            password_hash: payload.password_hash,
            proven_by_shopper: true,
        };
        Ok(Some(
            self.create_and_sign_in(application, draft, "self-registration", origin)
                .await?,
        ))
    }

    /// Completes a sign-up started by [`Registration::start_sign_up`] with the profile the
    /// shopper filled in: the proven contact is verified, any other contact given is added
    /// unverified. The token works once.
    pub async fn complete_sign_up(
        &self,
        application: &Application,
        register_token: &str,
        mut draft: CustomerDraft,
        origin: Origin,
    ) -> Result<SignedIn, ServiceError> {
        let digest = secret::digest(register_token);
        let now = self.clock.now();
        let pending = self
            .credentials
            .find_pending_registration(&application.id, &digest, now)
            .await?
            .ok_or(ServiceError::InvalidRegisterToken)?;
        let payload: PendingPayload = serde_json::from_value(pending.payload.clone())
            .map_err(|_| ServiceError::InvalidRegisterToken)?;
        // Only a sign-up that a proven contact started completes here: a form registration
        // still waiting for its codes must not skip them.
        let proven_any =
            pending.email_verified || pending.mobile_verified || payload.social.is_some();
        let proofs_complete = (!payload.verify_email || pending.email_verified)
            && (!payload.verify_mobile || pending.mobile_verified);
        if !(proven_any && proofs_complete) {
            return Err(ServiceError::InvalidRegisterToken);
        }
        let (email, phone) = payload.contacts(application.default_region)?;
        let config = self.configs.load(application).await?.config;
        if !config.registration_enabled() {
            return Err(ServiceError::Disabled(Feature::Registration));
        }
        if let Some(email) = email.filter(|_| pending.email_verified) {
            draft.email_verified = draft.email.as_ref().is_none_or(|given| *given == email);
            draft.email.get_or_insert(email);
        }
        if let Some(phone) = phone.filter(|_| pending.mobile_verified) {
            draft.phone_verified = draft.phone.as_ref().is_none_or(|given| *given == phone);
            draft.phone.get_or_insert(phone);
        }
        let rules = config.profile_rules();
        if rules.email.required && draft.email.is_none() {
            return Err(ServiceError::invalid("email", "is required"));
        }
        if rules.mobile.required && draft.phone.is_none() {
            return Err(ServiceError::invalid("mobile", "is required"));
        }
        if draft.password_hash.is_none() {
            draft.password_hash = payload.password_hash;
        }
        draft.proven_by_shopper = true;
        self.ensure_contacts_free(application, &draft).await?;
        self.credentials
            .take_pending_registration(&application.id, &digest, now)
            .await?
            .ok_or(ServiceError::InvalidRegisterToken)?;
        if draft.profile.first_name.is_none() {
            draft.profile.first_name = payload.profile.first_name;
        }
        if draft.profile.last_name.is_none() {
            draft.profile.last_name = payload.profile.last_name;
        }
        let signed_in = self
            .create_and_sign_in(application, draft, "sign-up completed", origin)
            .await?;
        if let Some(social) = &payload.social {
            self.customers
                .link_identity(
                    &application.id,
                    &signed_in.customer.id,
                    &social.provider,
                    &social.subject,
                )
                .await?;
        }
        Ok(signed_in)
    }

    /// A shopper signed in with a provider that links to no customer: a sign-up starts
    /// (one hour) with their names, their email when the provider verified it, and the
    /// identity to link; returns its token.
    pub async fn start_social_sign_up(
        &self,
        application: &Application,
        social: SocialLink,
        verified_email: Option<&Email>,
        first_name: Option<String>,
        last_name: Option<String>,
    ) -> Result<String, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.registration_enabled() {
            return Err(ServiceError::Disabled(Feature::Registration));
        }
        let payload = PendingPayload {
            profile: PendingProfile {
                first_name,
                last_name,
                gender: None,
            },
            email: verified_email.map(ToString::to_string),
            social: Some(social),
            ..PendingPayload::default()
        };
        self.save_new_pending(
            application,
            &payload,
            SIGN_UP_LIFETIME,
            (verified_email.is_some(), false),
        )
        .await
    }

    /// Creates the customer of a completed registration and signs them in.
    async fn create_and_sign_in(
        &self,
        application: &Application,
        draft: CustomerDraft,
        reason: &str,
        origin: Origin,
    ) -> Result<SignedIn, ServiceError> {
        let actor = Actor::new("storefront").with_reason(reason, None);
        let customer = self
            .customers
            .create(&application.id, draft, &actor)
            .await?;
        let session = self
            .sessions
            .sign_in(application, &customer.id, origin)
            .await?;
        Ok(SignedIn { customer, session })
    }

    /// Whether a live customer of the application has this email or phone (any spelling);
    /// text that is neither matches no one. Refused when the application turned the
    /// question off (`user_exists_enabled: false`).
    pub async fn user_exists(
        &self,
        application: &Application,
        email_or_phone: &str,
    ) -> Result<bool, ServiceError> {
        if !self
            .configs
            .load(application)
            .await?
            .config
            .user_exists_enabled()
        {
            return Err(ServiceError::Disabled(Feature::UserExists));
        }
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
