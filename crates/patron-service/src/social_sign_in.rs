//! Sign-in with Google, Apple and Facebook, without account takeover: a customer is found
//! by the (provider, subject) pair first; else linked only through an email the provider
//! asserts as verified and the customer proved too; else a sign-up starts (`user_exists: false`, `register_token`)
//! that `updateProfile` completes. An unverified provider email never signs anyone in to
//! the account that holds it.

use std::sync::Arc;

use patron_domain::contacts::Contact;
use patron_domain::email::Email;
use patron_store::Application;

use super::registration::SocialLink;
use super::{
    AuthConfigs, Customers, Feature, Origin, Registration, ServiceError, Sessions, SignedIn,
};
use crate::clock::Clock;
use crate::social::{ProviderIdentity, SocialError, SocialVerifier};

/// A provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Google (web, Android, iOS): an ID token.
    Google,
    /// Sign in with Apple: an ID token and the user identifier.
    Apple,
    /// Facebook: an access token and the user id.
    Facebook,
}

impl Provider {
    /// The name in the configuration (`social.<name>`) and in stored identities.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Apple => "apple",
            Provider::Facebook => "facebook",
        }
    }
}

/// What a storefront sends.
#[derive(Debug, Clone)]
pub struct SocialCredential {
    /// The provider.
    pub provider: Provider,
    /// The ID token (Google, Apple) or access token (Facebook).
    pub token: String,
    /// Apple's `user_identifier`, Facebook's `profile.id`.
    pub user_id: Option<String>,
    /// Names the storefront read (Apple sends them on the first sign-in only).
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// What a social sign-in led to.
#[derive(Debug, Clone)]
pub enum SocialOutcome {
    /// A known (or just linked) customer is signed in.
    SignedIn(Box<SignedIn>),
    /// No customer: a sign-up waits under `register_token` for `updateProfile`.
    SignUp {
        /// Completes the sign-up.
        register_token: String,
    },
}

/// Social sign-in.
#[derive(Clone)]
pub struct SocialSignIn {
    verifier: Arc<SocialVerifier>,
    configs: AuthConfigs,
    customers: Customers,
    registration: Registration,
    sessions: Sessions,
    clock: Arc<dyn Clock>,
}

/// What [`SocialSignIn`] is built from.
pub struct SocialSignInParts {
    /// Checks credentials with the providers.
    pub verifier: Arc<SocialVerifier>,
    /// Authentication configurations (switches, client ids, secrets).
    pub configs: AuthConfigs,
    /// Customers and their linked identities.
    pub customers: Customers,
    /// Sign-ups.
    pub registration: Registration,
    /// Sessions.
    pub sessions: Sessions,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
}

impl SocialSignIn {
    /// Social sign-in over the given parts.
    pub fn new(parts: SocialSignInParts) -> Self {
        Self {
            verifier: parts.verifier,
            configs: parts.configs,
            customers: parts.customers,
            registration: parts.registration,
            sessions: parts.sessions,
            clock: parts.clock,
        }
    }

    /// Checks the credential with its provider and signs in the customer it belongs to, or
    /// starts a sign-up.
    pub async fn sign_in(
        &self,
        application: &Application,
        credential: SocialCredential,
        origin: Origin,
    ) -> Result<SocialOutcome, ServiceError> {
        let provider = credential.provider.as_str();
        let config = self.configs.load(application).await?.config;
        if !config.social_enabled(provider) {
            return Err(ServiceError::Disabled(Feature::Social));
        }
        let app_id = config
            .social_app_id(provider)
            .unwrap_or_default()
            .to_owned();
        let identity = self.verify(application, &credential, &app_id).await?;
        let known = self
            .customers
            .find_by_identity(&application.id, provider, &identity.subject)
            .await?
            .filter(|customer| !customer.archived);
        let verified_email = identity
            .email
            .as_deref()
            .filter(|_| identity.email_verified)
            .and_then(|email| Email::parse("email", email).ok());
        let customer = match (known, &verified_email) {
            (Some(customer), _) => Some(customer),
            (None, Some(email)) => {
                // Only a customer who proved the email is linked; an account holding it
                // unproven loses it to the sign-up this starts.
                let holder = self
                    .customers
                    .proven_holder(&application.id, &Contact::Email(email.clone()))
                    .await?;
                if let Some(holder) = &holder {
                    self.customers
                        .link_identity(&application.id, &holder.id, provider, &identity.subject)
                        .await?;
                }
                holder
            }
            (None, None) => None,
        };
        let Some(customer) = customer else {
            let register_token = self
                .registration
                .start_social_sign_up(
                    application,
                    SocialLink {
                        provider: provider.to_owned(),
                        subject: identity.subject.clone(),
                    },
                    verified_email.as_ref(),
                    identity.first_name.or(credential.first_name),
                    identity.last_name.or(credential.last_name),
                )
                .await?;
            return Ok(SocialOutcome::SignUp { register_token });
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
        Ok(SocialOutcome::SignedIn(Box::new(SignedIn {
            customer,
            session,
        })))
    }

    async fn verify(
        &self,
        application: &Application,
        credential: &SocialCredential,
        app_id: &str,
    ) -> Result<ProviderIdentity, ServiceError> {
        let now = self.clock.now();
        let verified = match credential.provider {
            Provider::Google => self.verifier.google(&credential.token, app_id, now).await,
            Provider::Apple => {
                let user = credential.user_id.as_deref().unwrap_or_default();
                self.verifier
                    .apple(&credential.token, app_id, user, now)
                    .await
            }
            Provider::Facebook => {
                let secret = self
                    .configs
                    .social_secret(application, "facebook")
                    .await?
                    .unwrap_or_default();
                if app_id.is_empty() || secret.is_empty() {
                    return Err(ServiceError::SocialCredential(
                        "the application has no Facebook app id and secret".to_owned(),
                    ));
                }
                let user = credential.user_id.as_deref().unwrap_or_default();
                self.verifier
                    .facebook(&credential.token, app_id, &secret, user)
                    .await
            }
        };
        verified.map_err(|error| match error {
            SocialError::Invalid(message) => ServiceError::SocialCredential(message),
            SocialError::Unavailable(message) => ServiceError::ProviderUnavailable(message),
        })
    }
}
