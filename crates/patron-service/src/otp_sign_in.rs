//! What one-time passwords are used for on the storefront: signing in (or starting a
//! sign-up for an unknown contact), proving the contacts of a pending registration, proving
//! a signed-in shopper's new contact, and resetting a forgotten password.

use patron_domain::contacts::{Contact, ContactEdit};
use patron_domain::customer::Customer;
use patron_domain::email::Email;
use patron_domain::otp::{OtpPurpose, OtpTarget};
use patron_domain::phone::{Phone, Region};
use patron_domain::secret;
use patron_store::{Actor, Application};

use super::{
    customer_actor, AuthConfigs, Challenges, CodeClient, CodeRequest, Customers, DeviceToken,
    Expected, Feature, Origin, PasswordResets, ProvenCode, Registration, SentCode, ServiceError,
    Sessions, SignedIn,
};

/// Where a send comes from.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    /// The client's address (it has a send budget of its own).
    pub client_address: &'a str,
    /// Appended to text messages for Android's SMS retriever.
    pub android_hash: Option<&'a str>,
    /// The device cookie the client presented: a send to that device's own customer's
    /// contact draws on the device's budget.
    pub device: Option<&'a DeviceToken>,
}

/// An answer to a challenge: by `request_id` (mobile codes), or by target (email codes,
/// answered without one).
#[derive(Debug, Clone)]
pub enum CodeAnswer {
    /// The challenge's id and the code.
    ById {
        /// `request_id` of the send.
        request_id: String,
        /// The code.
        code: String,
    },
    /// The newest live challenge of the target, and the code.
    ByTarget {
        /// Where the code went.
        target: OtpTarget,
        /// The code.
        code: String,
    },
}

/// What a verified code led to.
#[derive(Debug, Clone)]
pub enum Verified {
    /// A known customer is signed in.
    SignedIn(Box<SignedIn>),
    /// Nobody has the contact: a sign-up waits under `register_token` for the profile.
    SignUp {
        /// Completes the sign-up (`updateProfile`).
        register_token: String,
    },
    /// A registration proved one contact and waits for the code of the other.
    RegistrationWaiting,
    /// The signed-in shopper proved a contact; it is now verified on their account.
    ContactProven(Box<Customer>),
}

/// Sign-in, registration steps and password reset by one-time password.
#[derive(Clone)]
pub struct OtpSignIn {
    challenges: Challenges,
    customers: Customers,
    registration: Registration,
    password_resets: PasswordResets,
    configs: AuthConfigs,
    sessions: Sessions,
}

/// What [`OtpSignIn`] is built from.
pub struct OtpSignInParts {
    /// One-time password challenges.
    pub challenges: Challenges,
    /// Customers.
    pub customers: Customers,
    /// Registration (sign-ups and their completion).
    pub registration: Registration,
    /// Reset codes (the `forgot_token`).
    pub password_resets: PasswordResets,
    /// Authentication configurations.
    pub configs: AuthConfigs,
    /// Sessions.
    pub sessions: Sessions,
}

impl OtpSignIn {
    /// The flows over the given parts.
    pub fn new(parts: OtpSignInParts) -> Self {
        Self {
            challenges: parts.challenges,
            customers: parts.customers,
            registration: parts.registration,
            password_resets: parts.password_resets,
            configs: parts.configs,
            sessions: parts.sessions,
        }
    }

    /// Sends a sign-in code (`loginWithOTP`, or a first send without a session). The answer
    /// is the same whether or not a customer has the contact.
    pub async fn send_login_code(
        &self,
        application: &Application,
        target: OtpTarget,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.otp_login_enabled() {
            return Err(ServiceError::Disabled(Feature::OtpLogin));
        }
        self.send(
            application,
            OtpPurpose::Login,
            target,
            None,
            None,
            sender,
            true,
        )
        .await
    }

    /// Sends a code for a contact of the pending registration `register_token`.
    pub async fn send_registration_code(
        &self,
        application: &Application,
        target: OtpTarget,
        register_token: &str,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        let (email, phone) = self
            .registration
            .pending_contacts(application, register_token)
            .await?;
        let belongs = match &target {
            OtpTarget::Email(given) => email.as_ref() == Some(given),
            OtpTarget::Mobile(given) => phone.as_ref() == Some(given),
        };
        if !belongs {
            return Err(ServiceError::InvalidRegisterToken);
        }
        self.send(
            application,
            OtpPurpose::Register,
            target,
            None,
            Some(secret::digest(register_token)),
            sender,
            true,
        )
        .await
    }

    /// Sends a code that proves a contact of the signed-in `customer` (a new one is added
    /// when proven); a contact another customer proved is refused, one held unproven
    /// elsewhere moves to `customer` when proven. The client network's lookup budget is
    /// charged before the contact is looked at.
    pub async fn send_contact_code(
        &self,
        application: &Application,
        customer: &Customer,
        target: OtpTarget,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        self.challenges
            .charge_lookup(application, sender.client_address)
            .await?;
        self.customers
            .ensure_not_proven_elsewhere(&application.id, &customer.id, &contact_of(&target))
            .await?;
        self.send(
            application,
            OtpPurpose::VerifyContact,
            target,
            Some(customer.id.clone()),
            None,
            sender,
            true,
        )
        .await
    }

    /// Counts a request that may tell whether a contact is taken against the client
    /// network's lookup budget (see [`Challenges::charge_lookup`]).
    pub async fn charge_lookup(
        &self,
        application: &Application,
        client_address: &str,
    ) -> Result<(), ServiceError> {
        self.challenges
            .charge_lookup(application, client_address)
            .await
    }

    /// Sends a live challenge of `target` again (its resend token proves the caller started
    /// it).
    pub async fn resend(
        &self,
        application: &Application,
        target: &OtpTarget,
        resend_token: &str,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        self.challenges
            .resend(
                application,
                target,
                resend_token,
                CodeClient {
                    address: sender.client_address,
                    device: sender.device,
                },
                sender.android_hash,
            )
            .await
    }

    /// Sends a password-reset code when an active customer has proven the contact;
    /// otherwise records the same challenge without sending it, so the answer reveals
    /// nothing.
    pub async fn send_forgot_code(
        &self,
        application: &Application,
        target: OtpTarget,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.forgot_password_enabled() {
            return Err(ServiceError::Disabled(Feature::ForgotPassword));
        }
        let owner = self
            .customers
            .proven_holder(&application.id, &contact_of(&target))
            .await?
            .filter(|customer| customer.active && customer.deletion.is_none());
        let deliver = owner.is_some();
        self.send(
            application,
            OtpPurpose::ForgotPassword,
            target,
            owner.map(|customer| customer.id),
            None,
            sender,
            deliver,
        )
        .await
    }

    /// Checks a password-reset code answered by `requester`; returns the `forgot_token`
    /// that `resetForgotPassword` takes.
    pub async fn verify_forgot(
        &self,
        application: &Application,
        answer: CodeAnswer,
        requester: CodeClient<'_>,
    ) -> Result<String, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.forgot_password_enabled() {
            return Err(ServiceError::Disabled(Feature::ForgotPassword));
        }
        let expected = Expected {
            purposes: &[OtpPurpose::ForgotPassword],
            context: None,
            customer_id: None,
        };
        let proven = self.prove(application, answer, expected, requester).await?;
        let customer_id = proven.customer_id.ok_or(ServiceError::InvalidOtp)?;
        self.password_resets
            .issue_code(application, &customer_id)
            .await
    }

    /// Checks a code sent for sign-in, for a registration (`register_token` given) or for a
    /// signed-in `shopper`'s contact, and does what it was sent for.
    pub async fn verify(
        &self,
        application: &Application,
        answer: CodeAnswer,
        register_token: Option<&str>,
        shopper: Option<&Customer>,
        origin: Origin,
    ) -> Result<Verified, ServiceError> {
        let purposes: &[OtpPurpose] = match (register_token, shopper) {
            (Some(_), _) => &[OtpPurpose::Register],
            (None, Some(_)) => &[OtpPurpose::VerifyContact, OtpPurpose::Login],
            (None, None) => &[OtpPurpose::Login],
        };
        let context = register_token.map(secret::digest);
        let expected = Expected {
            purposes,
            context: context.as_deref(),
            customer_id: shopper.map(|shopper| &shopper.id),
        };
        let proven = self
            .prove(
                application,
                answer,
                expected,
                CodeClient {
                    address: &origin.ip,
                    device: origin.device.as_ref(),
                },
            )
            .await?;
        match proven.purpose {
            OtpPurpose::Login => self.sign_in(application, &proven, origin).await,
            OtpPurpose::Register => {
                let token = register_token.ok_or(ServiceError::InvalidRegisterToken)?;
                Ok(
                    match self
                        .registration
                        .prove_contact(application, token, &proven, origin)
                        .await?
                    {
                        Some(signed_in) => Verified::SignedIn(Box::new(signed_in)),
                        None => Verified::RegistrationWaiting,
                    },
                )
            }
            OtpPurpose::VerifyContact => {
                let shopper = shopper.ok_or(ServiceError::InvalidOtp)?;
                let contact = contact_of(&target_of(&proven.target, application.default_region)?);
                let actor = Actor::new(customer_actor(&shopper.id))
                    .with_reason("contact proven by one-time password", None);
                let customer = self
                    .customers
                    .edit_contacts(
                        &application.id,
                        &shopper.id,
                        &ContactEdit::Verify(contact),
                        &actor,
                    )
                    .await?;
                Ok(Verified::ContactProven(Box::new(customer)))
            }
            _ => Err(ServiceError::InvalidOtp),
        }
    }

    /// A proven sign-in code: the customer who proved the contact before is signed in; for
    /// a contact no one has proven a sign-up starts, and the contact moves to the new
    /// account from any account holding it unproven (a stranger who registered with it
    /// never gets the prover signed in to their account).
    async fn sign_in(
        &self,
        application: &Application,
        proven: &ProvenCode,
        origin: Origin,
    ) -> Result<Verified, ServiceError> {
        let config = self.configs.load(application).await?.config;
        if !config.otp_login_enabled() {
            return Err(ServiceError::Disabled(Feature::OtpLogin));
        }
        let target = target_of(&proven.target, application.default_region)?;
        let Some(customer) = self
            .customers
            .proven_holder(&application.id, &contact_of(&target))
            .await?
        else {
            let register_token = self
                .registration
                .start_sign_up(application, &target)
                .await?;
            return Ok(Verified::SignUp { register_token });
        };
        if customer.deletion.is_some() {
            return Err(ServiceError::AccountDeleted);
        }
        if !customer.active {
            return Err(ServiceError::AccountBlocked);
        }
        let session = self
            .sessions
            .sign_in(application, &customer.id, origin)
            .await?;
        Ok(Verified::SignedIn(Box::new(SignedIn { customer, session })))
    }

    async fn prove(
        &self,
        application: &Application,
        answer: CodeAnswer,
        expected: Expected<'_>,
        requester: CodeClient<'_>,
    ) -> Result<ProvenCode, ServiceError> {
        match answer {
            CodeAnswer::ById { request_id, code } => {
                self.challenges
                    .verify(application, &request_id, &code, expected, requester)
                    .await
            }
            CodeAnswer::ByTarget { target, code } => {
                self.challenges
                    .verify_latest(application, &target, &code, expected, requester)
                    .await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        application: &Application,
        purpose: OtpPurpose,
        target: OtpTarget,
        customer_id: Option<patron_domain::ids::ObjectId>,
        context: Option<String>,
        sender: Sender<'_>,
        deliver: bool,
    ) -> Result<SentCode, ServiceError> {
        self.challenges
            .send(
                application,
                CodeRequest {
                    purpose,
                    target,
                    customer_id,
                    context,
                    client_address: sender.client_address,
                    android_hash: sender.android_hash,
                    device: sender.device,
                    deliver,
                },
            )
            .await
    }
}

/// The target a challenge's canonical text names.
pub fn target_of(key: &str, region: Region) -> Result<OtpTarget, ServiceError> {
    Ok(if key.contains('@') {
        OtpTarget::Email(Email::parse("email", key)?)
    } else {
        OtpTarget::Mobile(Phone::parse("mobile", key, None, region)?)
    })
}

/// The contact a target is.
pub fn contact_of(target: &OtpTarget) -> Contact {
    match target {
        OtpTarget::Email(email) => Contact::Email(email.clone()),
        OtpTarget::Mobile(phone) => Contact::Phone(phone.clone()),
    }
}
