//! A shopper's own profile (`updateProfile`): completing a sign-up that a one-time password
//! started, and later edits. A new email or mobile is added unverified and a code is sent
//! to prove it; only a proven contact becomes primary.

use patron_domain::contacts::{Contact, ContactEdit};
use patron_domain::customer::{Customer, CustomerChanges};
use patron_domain::email::Email;
use patron_domain::otp::OtpTarget;
use patron_domain::phone::Phone;
use patron_store::{Actor, Application};

use super::{
    customer_actor, CustomerDraft, Customers, Origin, OtpSignIn, Registration, Sender, SentCode,
    ServiceError, StartedSession,
};

/// What a profile form carries; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileForm {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// Date of birth, as the storefront sends it.
    pub dob: Option<String>,
    /// Avatar URL.
    pub profile_pic_url: Option<String>,
    /// An email to attach (added unverified when new).
    pub email: Option<Email>,
    /// A mobile to attach (added unverified when new).
    pub phone: Option<Phone>,
}

/// A saved profile.
#[derive(Debug, Clone)]
pub struct ProfileSaved {
    /// The customer as they now are.
    pub customer: Customer,
    /// The session a completed sign-up started.
    pub session: Option<StartedSession>,
    /// The email a code was sent to (to prove it), and the code's send.
    pub email_code: Option<(Email, SentCode)>,
    /// The mobile a code was sent to, and the code's send.
    pub mobile_code: Option<(Phone, SentCode)>,
}

/// Shoppers' profiles.
#[derive(Clone)]
pub struct Profiles {
    customers: Customers,
    registration: Registration,
    otp: OtpSignIn,
}

impl Profiles {
    /// Profiles over the customers, with sign-up completion and contact codes.
    pub fn new(customers: Customers, registration: Registration, otp: OtpSignIn) -> Self {
        Self {
            customers,
            registration,
            otp,
        }
    }

    /// Completes the sign-up `register_token` started with `form`: the customer is created
    /// with the proven contact verified and signed in; a further contact is sent a code.
    pub async fn complete_sign_up(
        &self,
        application: &Application,
        register_token: &str,
        form: ProfileForm,
        origin: Origin,
        android_hash: Option<&str>,
    ) -> Result<ProfileSaved, ServiceError> {
        let draft = CustomerDraft {
            username: None,
            profile: patron_domain::customer::Profile {
                first_name: form.first_name,
                last_name: form.last_name,
                gender: form.gender,
                dob: form.dob,
                profile_pic_url: form.profile_pic_url,
                ..Default::default()
            },
            email: form.email,
            phone: form.phone,
            email_verified: false,
            phone_verified: false,
            password_hash: None,
            proven_by_shopper: false,
        };
        let client_address = origin.ip.clone();
        let signed_in = self
            .registration
            .complete_sign_up(application, register_token, draft, origin)
            .await?;
        let sender = Sender {
            client_address: &client_address,
            android_hash,
            device: None,
        };
        let customer = signed_in.customer;
        let email_code = match customer.emails.first().filter(|e| !e.verified) {
            Some(entry) => Some((
                entry.email.clone(),
                self.otp
                    .send_contact_code(
                        application,
                        &customer,
                        OtpTarget::Email(entry.email.clone()),
                        sender,
                    )
                    .await?,
            )),
            None => None,
        };
        let mobile_code = match customer.phones.first().filter(|p| !p.verified) {
            Some(entry) => Some((
                entry.phone.clone(),
                self.otp
                    .send_contact_code(
                        application,
                        &customer,
                        OtpTarget::Mobile(entry.phone.clone()),
                        sender,
                    )
                    .await?,
            )),
            None => None,
        };
        Ok(ProfileSaved {
            customer,
            session: Some(signed_in.session),
            email_code,
            mobile_code,
        })
    }

    /// Saves a signed-in shopper's form: profile fields as given; an email or mobile the
    /// customer does not have is added unverified and sent a code (one they have but never
    /// proved is sent a code too).
    pub async fn update(
        &self,
        application: &Application,
        shopper: &Customer,
        form: ProfileForm,
        sender: Sender<'_>,
    ) -> Result<ProfileSaved, ServiceError> {
        let actor = Actor::new(customer_actor(&shopper.id)).with_reason("profile edit", None);
        let changes = CustomerChanges {
            first_name: form.first_name,
            last_name: form.last_name,
            gender: form.gender,
            dob: form.dob,
            profile_pic_url: form.profile_pic_url,
            ..CustomerChanges::default()
        };
        let mut customer = self
            .customers
            .update(&application.id, &shopper.id, &changes, &actor)
            .await?;
        let mut email_code = None;
        if let Some(email) = form.email {
            customer = self
                .add(
                    application,
                    &customer,
                    Contact::Email(email.clone()),
                    &actor,
                    sender.client_address,
                )
                .await?;
            if customer
                .emails
                .iter()
                .any(|e| e.email == email && !e.verified)
            {
                let target = OtpTarget::Email(email.clone());
                let sent = self
                    .otp
                    .send_contact_code(application, &customer, target, sender)
                    .await?;
                email_code = Some((email, sent));
            }
        }
        let mut mobile_code = None;
        if let Some(phone) = form.phone {
            customer = self
                .add(
                    application,
                    &customer,
                    Contact::Phone(phone.clone()),
                    &actor,
                    sender.client_address,
                )
                .await?;
            if customer
                .phones
                .iter()
                .any(|p| p.phone == phone && !p.verified)
            {
                let target = OtpTarget::Mobile(phone.clone());
                let sent = self
                    .otp
                    .send_contact_code(application, &customer, target, sender)
                    .await?;
                mobile_code = Some((phone, sent));
            }
        }
        Ok(ProfileSaved {
            customer,
            session: None,
            email_code,
            mobile_code,
        })
    }

    /// Adds `contact` unverified, after charging the client network's lookup budget (the
    /// answer may say another customer holds it).
    async fn add(
        &self,
        application: &Application,
        customer: &Customer,
        contact: Contact,
        actor: &Actor,
        client_address: &str,
    ) -> Result<Customer, ServiceError> {
        self.otp.charge_lookup(application, client_address).await?;
        self.customers
            .edit_contacts(
                &application.id,
                &customer.id,
                &ContactEdit::Add(contact),
                actor,
            )
            .await
    }
}
