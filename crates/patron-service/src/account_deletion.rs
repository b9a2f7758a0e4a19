//! A customer deletes their own account (`deleteUser`): a reason the application offers and
//! a code recently sent to one of their verified contacts; then they are signed out
//! everywhere, every sign-in is refused with `meta.is_deleted`, an administrator may restore
//! them during `delete_account_day` days, and the retention worker anonymises them after.

use std::sync::Arc;

use chrono::Duration;
use patron_domain::customer::{validate_text, Customer};
use patron_domain::otp::{OtpPurpose, OtpTarget};
use patron_store::{Actor, Application};

use super::otp_sign_in::target_of;
use super::{
    customer_actor, AuthConfigs, Challenges, CodeClient, Customers, DeviceToken, Expected,
    ServiceError,
};
use crate::clock::Clock;

/// How recently the confirming code must have been sent.
const CODE_WINDOW: Duration = Duration::minutes(10);

/// What `deleteUser` sends.
#[derive(Debug, Clone, Copy)]
pub struct DeletionRequest<'a> {
    /// The customer's id, as the storefront names it (must be the signed-in one).
    pub user_id: &'a str,
    /// One of the configuration's `delete_account_reasons[].reason_id`.
    pub reason_id: &'a str,
    /// The reason in words.
    pub reason: &'a str,
    /// The `request_id` of the confirming code.
    pub request_id: &'a str,
    /// The confirming code.
    pub otp: &'a str,
    /// The client's address (a wrong code counts against its guessing budget).
    pub client_address: &'a str,
    /// The device cookie the client presented, if any.
    pub device: Option<&'a DeviceToken>,
}

/// Self-service account deletion.
#[derive(Clone)]
pub struct AccountDeletion {
    customers: Customers,
    challenges: Challenges,
    configs: AuthConfigs,
    clock: Arc<dyn Clock>,
}

impl AccountDeletion {
    /// Deletion over the customers, confirmed by `challenges`.
    pub fn new(
        customers: Customers,
        challenges: Challenges,
        configs: AuthConfigs,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            customers,
            challenges,
            configs,
            clock,
        }
    }

    /// Deletes the signed-in `shopper`'s account when the request names them, gives an
    /// offered reason, and carries a code sent within ten minutes to one of their verified
    /// contacts.
    pub async fn delete(
        &self,
        application: &Application,
        shopper: &Customer,
        request: DeletionRequest<'_>,
    ) -> Result<(), ServiceError> {
        if request.user_id != shopper.id.as_str() {
            return Err(ServiceError::invalid(
                "user_id",
                "must be the signed-in customer's id",
            ));
        }
        let config = self.configs.load(application).await?.config;
        if !config.delete_reason_ids().contains(&request.reason_id) {
            return Err(ServiceError::invalid(
                "reason_id",
                "is not one of the application's delete_account_reasons",
            ));
        }
        let reason = validate_text("reason", request.reason)?;
        let expected = Expected {
            purposes: &[OtpPurpose::VerifyContact, OtpPurpose::DeleteAccount],
            context: None,
            customer_id: Some(&shopper.id),
        };
        let proven = self
            .challenges
            .verify(
                application,
                request.request_id,
                request.otp,
                expected,
                CodeClient {
                    address: request.client_address,
                    device: request.device,
                },
            )
            .await?;
        let own_verified = match target_of(&proven.target, application.default_region)? {
            OtpTarget::Email(email) => shopper
                .emails
                .iter()
                .any(|e| e.email == email && e.verified),
            OtpTarget::Mobile(phone) => shopper
                .phones
                .iter()
                .any(|p| p.phone == phone && p.verified),
        };
        if !own_verified || self.clock.now() - proven.sent_at > CODE_WINDOW {
            return Err(ServiceError::InvalidOtp);
        }
        let actor = Actor::new(customer_actor(&shopper.id))
            .with_reason(reason, Some(request.reason_id.to_owned()));
        self.customers
            .request_deletion(&application.id, &shopper.id, config.delete_grace(), &actor)
            .await
    }
}
