//! A signed-in shopper's emails and mobiles: adding one (unverified, with a verification
//! link), proving it by link, making a verified one primary, removing one, and changing the
//! primary contact by one-time passwords (prove the current one, then the new one).

use patron_domain::contacts::{Contact, ContactEdit};
use patron_domain::customer::Customer;
use patron_domain::otp::{OtpPurpose, OtpTarget};
use patron_store::{Actor, Application};

use super::otp_sign_in::{contact_of, target_of};
use super::{
    customer_actor, AuthConfigs, Challenges, CodeClient, CodeRequest, Customers, DeviceToken,
    Expected, Sender, SentCode, ServiceError,
};

/// Which kind of contact (`{entity}` of the v2.0 paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// Email addresses.
    Email,
    /// Mobile numbers.
    Mobile,
}

impl ContactKind {
    /// Parses `email` or `mobile`.
    pub fn parse(entity: &str) -> Result<Self, ServiceError> {
        match entity {
            "email" => Ok(ContactKind::Email),
            "mobile" => Ok(ContactKind::Mobile),
            _ => Err(ServiceError::invalid("entity", "must be mobile or email")),
        }
    }

    /// `email` or `mobile`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Mobile => "mobile",
        }
    }

    fn of(target: &OtpTarget) -> Self {
        match target {
            OtpTarget::Email(_) => ContactKind::Email,
            OtpTarget::Mobile(_) => ContactKind::Mobile,
        }
    }
}

/// Where verification links point when the application configures nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBases {
    /// Email links (`<public_url>/auth/verify-email`).
    pub email: String,
    /// Mobile links (`<public_url>/auth/verify-mobile`).
    pub mobile: String,
}

/// What allows a v1.0 change of the primary contact.
#[derive(Debug, Clone, Copy)]
pub struct PrimaryProof<'a> {
    /// A proof of the current primary contact (`verifyOTPonPrimary`'s `request_id`).
    pub grant: Option<&'a str>,
    /// When the session making the change signed in.
    pub signed_in_at: chrono::DateTime<chrono::Utc>,
}

/// A code a signed-in shopper typed for a challenge, and where they answered from.
#[derive(Debug, Clone, Copy)]
pub struct OtpAnswer<'a> {
    /// The challenge's `request_id`.
    pub request_id: &'a str,
    /// The code.
    pub code: &'a str,
    /// The client's address (wrong answers count against its guessing budget).
    pub client_address: &'a str,
    /// The device cookie the client presented, if any.
    pub device: Option<&'a DeviceToken>,
}

/// Shoppers' own contacts.
#[derive(Clone)]
pub struct Contacts {
    customers: Customers,
    challenges: Challenges,
    configs: AuthConfigs,
    link_bases: LinkBases,
}

impl Contacts {
    /// Contacts of `customers`, proven with `challenges`.
    pub fn new(
        customers: Customers,
        challenges: Challenges,
        configs: AuthConfigs,
        link_bases: LinkBases,
    ) -> Self {
        Self {
            customers,
            challenges,
            configs,
            link_bases,
        }
    }

    /// Adds a contact unverified and sends it a verification link; returns the customer
    /// and whether a link went out (not for a contact they had already proven). The
    /// client network's lookup budget is charged first, and the shopper's own rules (how
    /// many contacts they may hold) are checked before whether another customer holds it,
    /// in the transaction that writes it.
    pub async fn add(
        &self,
        application: &Application,
        customer: &Customer,
        target: OtpTarget,
        client_address: &str,
    ) -> Result<(Customer, bool), ServiceError> {
        let contact = contact_of(&target);
        self.challenges
            .charge_lookup(application, client_address)
            .await?;
        let customer = self
            .customers
            .edit_contacts(
                &application.id,
                &customer.id,
                &ContactEdit::Add(contact),
                &actor(customer),
            )
            .await?;
        let sent = self
            .send_link(application, &customer, target, client_address)
            .await?;
        Ok((customer, sent))
    }

    /// Sends a verification link to one of the customer's contacts; false (nothing sent)
    /// when it is already verified.
    pub async fn send_link(
        &self,
        application: &Application,
        customer: &Customer,
        target: OtpTarget,
        client_address: &str,
    ) -> Result<bool, ServiceError> {
        let verified = match &target {
            OtpTarget::Email(email) => customer
                .emails
                .iter()
                .find(|e| e.email == *email)
                .map(|e| e.verified),
            OtpTarget::Mobile(phone) => customer
                .phones
                .iter()
                .find(|p| p.phone == *phone)
                .map(|p| p.verified),
        };
        let field = ContactKind::of(&target).as_str();
        match verified {
            None => Err(ServiceError::invalid(
                field,
                format!("is not one of the customer's {field}s"),
            )),
            Some(true) => Ok(false),
            Some(false) => {
                let config = self.configs.load(application).await?.config;
                let email = matches!(target, OtpTarget::Email(_));
                let base = config.verification_url(email).unwrap_or(if email {
                    &self.link_bases.email
                } else {
                    &self.link_bases.mobile
                });
                self.challenges
                    .send_link(application, &target, &customer.id, base, client_address)
                    .await?;
                Ok(true)
            }
        }
    }

    /// Spends a verification link's code: its contact is verified on its customer.
    pub async fn verify_link(
        &self,
        application: &Application,
        code: &str,
    ) -> Result<Customer, ServiceError> {
        let proven = self.challenges.verify_link(application, code).await?;
        let customer_id = proven.customer_id.ok_or(ServiceError::InvalidLink)?;
        let target = target_of(&proven.target, application.default_region)?;
        let actor = Actor::new(customer_actor(&customer_id))
            .with_reason("contact proven by verification link", None);
        self.customers
            .edit_contacts(
                &application.id,
                &customer_id,
                &ContactEdit::Verify(contact_of(&target)),
                &actor,
            )
            .await
    }

    /// Makes a verified contact the customer's primary one of its kind (the v1.0 calls),
    /// with the proof the v2.0 change asks for: a proof of the current primary contact
    /// (`grant`, from `verifyOTPonPrimary`), or else a sign-in no older than a code's
    /// lifetime (`signed_in_at`), so that a stolen session cannot move the primary contact.
    pub async fn make_primary(
        &self,
        application: &Application,
        customer: &Customer,
        contact: Contact,
        proof: PrimaryProof<'_>,
    ) -> Result<Customer, ServiceError> {
        let kind = match contact {
            Contact::Email(_) => ContactKind::Email,
            Contact::Phone(_) => ContactKind::Mobile,
        };
        match proof.grant {
            Some(grant) => {
                self.challenges
                    .spend_primary_grant(application, grant, &customer.id, kind.as_str())
                    .await?
            }
            None => {
                let window = self.challenges.policy(application).await?.lifetime;
                if self.challenges.now() - proof.signed_in_at > window {
                    return Err(ServiceError::invalid(
                        "request_id",
                        format!(
                            "is needed: prove the current primary {} first (sendOTPOnPrimary, \
                             verifyOTPonPrimary), or sign in again (a primary contact changes \
                             within {} minutes of a sign-in)",
                            kind.as_str(),
                            window.num_minutes()
                        ),
                    ));
                }
            }
        }
        self.customers
            .edit_contacts(
                &application.id,
                &customer.id,
                &ContactEdit::MakePrimary(contact),
                &actor(customer),
            )
            .await
    }

    /// Removes a contact that is not the primary one, nor the last verified one of a kind
    /// the application's `required_fields` requires.
    pub async fn remove(
        &self,
        application: &Application,
        customer: &Customer,
        contact: Contact,
    ) -> Result<Customer, ServiceError> {
        let rules = self.configs.load(application).await?.config.profile_rules();
        let kind_required = match contact {
            Contact::Email(_) => rules.email.required,
            Contact::Phone(_) => rules.mobile.required,
        };
        self.customers
            .edit_contacts(
                &application.id,
                &customer.id,
                &ContactEdit::Remove {
                    contact,
                    kind_required,
                },
                &actor(customer),
            )
            .await
    }

    /// Step 1 of changing the primary contact: a code to the current primary one.
    pub async fn send_to_primary(
        &self,
        application: &Application,
        customer: &Customer,
        kind: ContactKind,
        sender: Sender<'_>,
    ) -> Result<(OtpTarget, SentCode), ServiceError> {
        let primary = match kind {
            ContactKind::Email => customer
                .emails
                .iter()
                .find(|e| e.primary)
                .map(|e| OtpTarget::Email(e.email.clone())),
            ContactKind::Mobile => customer
                .phones
                .iter()
                .find(|p| p.primary)
                .map(|p| OtpTarget::Mobile(p.phone.clone())),
        }
        .ok_or_else(|| {
            ServiceError::invalid(
                "entity",
                format!("the customer has no primary {}", kind.as_str()),
            )
        })?;
        let sent = self
            .send(
                application,
                OtpPurpose::ChangePrimary,
                primary.clone(),
                customer,
                sender,
            )
            .await?;
        Ok((primary, sent))
    }

    /// Step 2: the code of the current primary contact; returns the proof that step 3
    /// takes as its `request_id`.
    pub async fn prove_primary(
        &self,
        application: &Application,
        customer: &Customer,
        kind: ContactKind,
        answer: OtpAnswer<'_>,
    ) -> Result<String, ServiceError> {
        self.prove(
            application,
            customer,
            OtpPurpose::ChangePrimary,
            kind,
            answer,
        )
        .await?;
        self.challenges
            .grant_primary_change(application, &customer.id, kind.as_str())
            .await
    }

    /// Step 3: spends the proof and sends a code to the new value (another customer's is
    /// refused).
    pub async fn send_to_new(
        &self,
        application: &Application,
        customer: &Customer,
        grant: &str,
        target: OtpTarget,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        let kind = ContactKind::of(&target);
        // The proof first: only a shopper who just proved their primary contact learns
        // whether another customer proved the new value.
        self.challenges
            .spend_primary_grant(application, grant, &customer.id, kind.as_str())
            .await?;
        self.customers
            .ensure_not_proven_elsewhere(&application.id, &customer.id, &contact_of(&target))
            .await?;
        self.send(
            application,
            OtpPurpose::UpdatePrimary,
            target,
            customer,
            sender,
        )
        .await
    }

    /// Step 4: the new value's code; it becomes the verified primary contact.
    pub async fn prove_new(
        &self,
        application: &Application,
        customer: &Customer,
        kind: ContactKind,
        answer: OtpAnswer<'_>,
    ) -> Result<Customer, ServiceError> {
        let target = self
            .prove(
                application,
                customer,
                OtpPurpose::UpdatePrimary,
                kind,
                answer,
            )
            .await?;
        self.customers
            .edit_contacts(
                &application.id,
                &customer.id,
                &ContactEdit::VerifyAsPrimary(contact_of(&target)),
                &actor(customer),
            )
            .await
    }

    /// Checks a code sent to the customer for `purpose` about a contact of `kind`; returns
    /// the contact it went to.
    async fn prove(
        &self,
        application: &Application,
        customer: &Customer,
        purpose: OtpPurpose,
        kind: ContactKind,
        answer: OtpAnswer<'_>,
    ) -> Result<OtpTarget, ServiceError> {
        let expected = Expected {
            purposes: &[purpose],
            context: None,
            customer_id: Some(&customer.id),
        };
        let proven = self
            .challenges
            .verify(
                application,
                answer.request_id,
                answer.code,
                expected,
                CodeClient {
                    address: answer.client_address,
                    device: answer.device,
                },
            )
            .await?;
        let target = target_of(&proven.target, application.default_region)?;
        if ContactKind::of(&target) != kind {
            return Err(ServiceError::InvalidOtp);
        }
        Ok(target)
    }

    async fn send(
        &self,
        application: &Application,
        purpose: OtpPurpose,
        target: OtpTarget,
        customer: &Customer,
        sender: Sender<'_>,
    ) -> Result<SentCode, ServiceError> {
        self.challenges
            .send(
                application,
                CodeRequest {
                    purpose,
                    target,
                    customer_id: Some(customer.id.clone()),
                    context: None,
                    client_address: sender.client_address,
                    android_hash: sender.android_hash,
                    device: sender.device,
                    deliver: true,
                },
            )
            .await
    }
}

fn actor(customer: &Customer) -> Actor {
    Actor::new(customer_actor(&customer.id)).with_reason("contacts edited by the customer", None)
}
