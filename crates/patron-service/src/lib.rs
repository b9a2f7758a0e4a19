//! The use cases: what Patron does, in plain Rust over the store traits, the clock, the
//! hasher, the secret box and the delivery port, knowing nothing of HTTP (this crate has no
//! web framework among its dependencies). The server's handlers parse a request, call one
//! use case and map its result (the server turns a [`ServiceError`] into a status and
//! Fynd's error body); background workers and the command line call the same use cases.

pub mod cache;
pub mod clock;
pub mod delivery;
pub mod files;
pub mod hasher;
pub mod metrics;
pub mod secrets;
pub mod social;
pub mod spreadsheet;
pub mod workers;

mod account_deletion;
mod applications;
mod attributes;
mod auth_config;
mod challenges;
mod clients;
mod contacts;
mod customers;
mod error;
mod events;
mod groups;
mod jobs;
mod login_tokens;
mod notifications;
mod otp_sign_in;
mod password_reset;
mod profiles;
mod registration;
mod retention;
mod secret_rotation;
mod sessions;
mod sign_in;
mod social_sign_in;
mod tokens;

use std::sync::Arc;

use patron_store::Stores;

pub use account_deletion::{AccountDeletion, DeletionRequest};
pub use applications::{
    Applications, CreatedApplication, NewApplication, RotatedToken, MAX_APPLICATIONS,
};
pub use attributes::{
    Attributes, BulkOutcome, BulkRow, Checked, KeyValue, OpenedValue, Reason, RowFailure,
};
pub use auth_config::{AuthConfigs, CurrentConfig};
pub use challenges::{Challenges, CodeClient, CodeRequest, Expected, ProvenCode, SentCode};
pub use clients::{Clients, CreatedClient};
pub use contacts::{ContactKind, Contacts, LinkBases, OtpAnswer, PrimaryProof};
pub use customers::{CustomerDraft, Customers, Timeline};
pub use error::{Feature, ServiceError};
pub use events::{EventSink, Events, EVENT_BATCH};
pub use groups::{
    group_text, AttributeFilter, CompiledCondition, ConditionInput, FilteredCustomers, GroupDraft,
    GroupPatch, Groups, GroupsParts, MemberEntry, MAX_GROUP_TEXT, MAX_LISTED,
};
pub use jobs::{
    error_report_path, export_file_path, run_worker as run_jobs, runner_name, BulkResult,
    ExportFile, ExportFiles, Jobs, JobsParts, MemberFile, MemberRow, Requester, SubmittedJob,
};
pub use login_tokens::{LoginTokens, LOGIN_TOKEN_LIFETIME};
pub use notifications::{conceal_message, reveal_message, Notifications, DELIVERY_BATCH};
pub use otp_sign_in::{CodeAnswer, OtpSignIn, OtpSignInParts, Sender, Verified};
pub use password_reset::{PasswordResetParts, PasswordResets};
pub use profiles::{ProfileForm, ProfileSaved, Profiles};
pub use registration::{Registered, Registration, RegistrationForm, RegistrationParts};
pub use retention::{PurgeReport, Retention, RetentionAges};
pub use secret_rotation::{RotationReport, SecretRotation};
pub use sessions::{
    CurrentSession, DeviceToken, Origin, Sessions, StartedSession, DEVICE_LIFETIME,
};
pub use sign_in::{customer_actor, PasswordParts, PasswordUpdate, Passwords, SignedIn};
pub use social_sign_in::{
    Provider, SocialCredential, SocialOutcome, SocialSignIn, SocialSignInParts,
};
pub use tokens::{
    IssuedTokens, OperatorSession, TokenLifetimes, Tokens, OPERATOR_SESSION_LIFETIME,
};

pub use clock::{Clock, ManualClock, SystemClock};

use crate::cache::Caches;
use crate::hasher::PasswordHasher;
use crate::secrets::SecretBox;

/// The settings the use cases take from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Where customers reach the links the service sends (no trailing `/`).
    pub public_url: String,
    /// How long finished records are kept.
    pub retention: RetentionAges,
    /// Largest bulk attribute update done within the request.
    pub bulk_sync_limit: usize,
    /// Where exported customer files are kept.
    pub export_dir: std::path::PathBuf,
    /// How long a download link of an exported file stays valid.
    pub export_link_ttl: chrono::Duration,
    /// How long OAuth tokens last.
    pub token_lifetimes: TokenLifetimes,
    /// The longest a rolling session lives after it started, however active.
    pub rolling_session_cap: chrono::Duration,
    /// Failed password sign-ins a client address may make per minute (0: unlimited).
    pub sign_in_failures_per_minute: u32,
    /// Where the social providers are reached.
    pub social: social::SocialEndpoints,
}

/// Every use-case family, each holding only what it needs; built once by the composition
/// root and cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// Authentication configurations.
    pub auth_configs: AuthConfigs,
    /// Customers, including the one creation path.
    pub customers: Customers,
    /// Storefront sessions.
    pub sessions: Sessions,
    /// Password sign-in and changes.
    pub passwords: Passwords,
    /// Self-registration.
    pub registration: Registration,
    /// Sign-in, registration steps and password reset by one-time password.
    pub otp: OtpSignIn,
    /// Shoppers' own profiles.
    pub profiles: Profiles,
    /// Shoppers' own emails and mobiles.
    pub contacts: Contacts,
    /// Single-use sign-in tokens (token login).
    pub login_tokens: LoginTokens,
    /// Self-service account deletion.
    pub account_deletion: AccountDeletion,
    /// Sign-in with Google, Apple and Facebook.
    pub social: SocialSignIn,
    /// Customer messages.
    pub notifications: Notifications,
    /// Password reset by email link.
    pub password_resets: PasswordResets,
    /// The purge of old records.
    pub retention: Retention,
    /// Attribute values.
    pub attributes: Attributes,
    /// Group conditions and membership.
    pub groups: Groups,
    /// Background jobs and bulk updates.
    pub jobs: Jobs,
    /// Platform clients' OAuth tokens.
    pub tokens: Tokens,
    /// Sales-channel applications (the command line's and the console's).
    pub applications: Applications,
    /// Platform API clients (the command line's).
    pub clients: Clients,
}

impl Services {
    /// Wires every use case to its dependencies.
    pub fn new(
        stores: &Stores,
        clock: Arc<dyn Clock>,
        hasher: PasswordHasher,
        secrets: SecretBox,
        caches: Arc<Caches>,
        files: Arc<dyn files::FileSource>,
        settings: ServiceSettings,
    ) -> Self {
        let auth_configs = AuthConfigs::new(
            stores.auth_configs.clone(),
            secrets.clone(),
            caches,
            clock.clone(),
        );
        let customers = Customers::new(
            stores.customers.clone(),
            stores.credentials.clone(),
            clock.clone(),
        );
        let sessions = Sessions::new(
            stores.sessions.clone(),
            auth_configs.clone(),
            settings.rolling_session_cap,
            clock.clone(),
        );
        let passwords = Passwords::new(PasswordParts {
            credentials: stores.credentials.clone(),
            hasher: hasher.clone(),
            secrets: secrets.clone(),
            configs: auth_configs.clone(),
            sessions: sessions.clone(),
            failures_per_minute: settings.sign_in_failures_per_minute,
            clock: clock.clone(),
        });
        let notifications = Notifications::new(
            stores.outbox.clone(),
            auth_configs.clone(),
            secrets.clone(),
            clock.clone(),
        );
        let challenges = Challenges::new(
            stores.otp.clone(),
            notifications.clone(),
            auth_configs.clone(),
            secrets.clone(),
            clock.clone(),
        );
        let registration = Registration::new(RegistrationParts {
            customers: customers.clone(),
            credentials: stores.credentials.clone(),
            hasher: hasher.clone(),
            configs: auth_configs.clone(),
            sessions: sessions.clone(),
            challenges: challenges.clone(),
            clock: clock.clone(),
        });
        let password_resets = PasswordResets::new(PasswordResetParts {
            default_link_base: format!("{}/auth/set-password", settings.public_url),
            credentials: stores.credentials.clone(),
            customers: stores.customers.clone(),
            hasher: hasher.clone(),
            configs: auth_configs.clone(),
            passwords: passwords.clone(),
            sessions: sessions.clone(),
            notifications: notifications.clone(),
            challenges: challenges.clone(),
            clock: clock.clone(),
        });
        let contacts = Contacts::new(
            customers.clone(),
            challenges.clone(),
            auth_configs.clone(),
            LinkBases {
                email: format!("{}/auth/verify-email", settings.public_url),
                mobile: format!("{}/auth/verify-mobile", settings.public_url),
            },
        );
        let social = SocialSignIn::new(SocialSignInParts {
            verifier: Arc::new(social::SocialVerifier::new(settings.social.clone())),
            configs: auth_configs.clone(),
            customers: customers.clone(),
            registration: registration.clone(),
            sessions: sessions.clone(),
            clock: clock.clone(),
        });
        let account_deletion = AccountDeletion::new(
            customers.clone(),
            challenges.clone(),
            auth_configs.clone(),
            clock.clone(),
        );
        let otp = OtpSignIn::new(OtpSignInParts {
            challenges,
            customers: customers.clone(),
            registration: registration.clone(),
            password_resets: password_resets.clone(),
            configs: auth_configs.clone(),
            sessions: sessions.clone(),
        });
        let profiles = Profiles::new(customers.clone(), registration.clone(), otp.clone());
        let login_tokens = LoginTokens::new(
            stores.credentials.clone(),
            stores.customers.clone(),
            sessions.clone(),
            clock.clone(),
        );
        let exports = ExportFiles::new(
            settings.export_dir.clone(),
            settings.public_url.clone(),
            settings.export_link_ttl,
            secrets.clone(),
        );
        let retention = Retention::new(
            stores.retention.clone(),
            stores.tokens.clone(),
            customers.clone(),
            exports.clone(),
            settings.retention,
            clock.clone(),
        );

        let attributes = Attributes::new(
            stores.attributes.clone(),
            stores.customers.clone(),
            secrets,
            clock.clone(),
        );
        let jobs = Jobs::new(JobsParts {
            store: stores.jobs.clone(),
            groups: stores.groups.clone(),
            customers: stores.customers.clone(),
            attributes: attributes.clone(),
            auth_configs: auth_configs.clone(),
            exports,
            files: files::Files::new(files),
            sync_limit: settings.bulk_sync_limit,
            clock: clock.clone(),
        });
        let groups = Groups::new(GroupsParts {
            groups: stores.groups.clone(),
            attributes: stores.attributes.clone(),
            customers: stores.customers.clone(),
            attributes_values: attributes.clone(),
            jobs: jobs.clone(),
            clock: clock.clone(),
        });
        let tokens = Tokens::new(
            stores.clients.clone(),
            stores.tokens.clone(),
            settings.token_lifetimes,
            clock.clone(),
        );
        Self {
            tokens,
            applications: Applications::new(stores.applications.clone(), clock.clone()),
            clients: Clients::new(stores.clients.clone(), clock.clone()),
            attributes,
            groups,
            jobs,
            retention,
            password_resets,
            notifications,
            auth_configs,
            customers,
            sessions,
            passwords,
            registration,
            otp,
            profiles,
            contacts,
            login_tokens,
            account_deletion,
            social,
        }
    }
}
