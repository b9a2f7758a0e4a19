//! Customers: the one creation path (platform create, registration, and next OTP and social
//! sign-in and import), updates, blocking, archiving, listing and lookups.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use patron_domain::contacts::{Contact, ContactEdit};
use patron_domain::customer::{Customer, CustomerChanges, NewCustomer, Profile};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::phone::Phone;
use patron_domain::query::CustomerFilter;
use patron_domain::timeline::{describe, TimelineEntry};
use patron_store::{Actor, Conflict, CredentialStore, CustomerStore, Entity, StoreError};
use rand::Rng;

use super::ServiceError;
use crate::clock::Clock;

/// Attempts at a generated username before giving up (collisions are astronomically rare).
const USERNAME_ATTEMPTS: usize = 5;

/// What a new customer is made of.
#[derive(Debug, Clone, Default)]
pub struct CustomerDraft {
    /// A chosen username; generated from the contacts when absent.
    pub username: Option<String>,
    /// Names and other profile fields.
    pub profile: Profile,
    /// The primary email.
    pub email: Option<Email>,
    /// The primary phone.
    pub phone: Option<Phone>,
    /// Whether the email counts as verified: an administrator vouches for it, a
    /// self-registration starts unverified unless the shopper proved it by OTP.
    pub email_verified: bool,
    /// Whether the phone counts as verified (as for the email).
    pub phone_verified: bool,
    /// The argon2id hash of the password the customer chose, if any.
    pub password_hash: Option<String>,
    /// Whether the shopper has just proven the verified contacts (by a code, a link or a
    /// provider): another account holding one of them unproven then loses it to this one.
    pub proven_by_shopper: bool,
}

/// Most entries a timeline shows.
const TIMELINE_ENTRIES: usize = 500;

/// A customer's history as support staff read it.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// When a requested deletion takes effect, if one is pending.
    pub delete_on: Option<DateTime<Utc>>,
    /// What happened, newest first, each with its time.
    pub entries: Vec<(DateTime<Utc>, TimelineEntry)>,
}

/// The customers of applications.
#[derive(Clone)]
pub struct Customers {
    store: Arc<dyn CustomerStore>,
    credentials: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
}

impl Customers {
    /// Customers kept in `store`, their passwords in `credentials`.
    pub fn new(
        store: Arc<dyn CustomerStore>,
        credentials: Arc<dyn CredentialStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            credentials,
            clock,
        }
    }

    /// Creates a customer: the one path every way of joining goes through. A generated
    /// username that happens to be taken is drawn again, a bounded number of times; a taken
    /// email, phone or chosen username is a conflict naming it.
    pub async fn create(
        &self,
        application_id: &ObjectId,
        draft: CustomerDraft,
        actor: &Actor,
    ) -> Result<Customer, ServiceError> {
        for _ in 0..USERNAME_ATTEMPTS {
            let suffix = rand::thread_rng().gen_range(10_000..100_000_000);
            let new = NewCustomer::new(
                application_id.clone(),
                draft.username.clone(),
                draft.profile.clone(),
                draft.email.clone(),
                draft.phone.clone(),
                suffix,
                self.clock.now(),
            )?
            .with_verified(draft.email_verified, draft.phone_verified);
            let new = if draft.proven_by_shopper {
                new.proven_by_shopper()
            } else {
                new
            };
            let created = match &draft.password_hash {
                Some(hash) => {
                    self.credentials
                        .register_customer(&new, Some(hash), actor)
                        .await
                }
                None => self.store.create_customer(&new, actor).await,
            };
            match created {
                Err(StoreError::Conflict(Conflict::Username(_))) if new.username_generated => {}
                result => return Ok(result?),
            }
        }
        Err(ServiceError::Internal(
            "could not generate a free username".to_owned(),
        ))
    }

    /// One page of the application's customers matching `filter`, and how many match.
    pub async fn list(
        &self,
        application_id: &ObjectId,
        filter: Option<&CustomerFilter>,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), ServiceError> {
        Ok(self
            .store
            .list_customers(application_id, filter, page)
            .await?)
    }

    /// The live customers holding any of these emails or phones.
    pub async fn find_by_contacts(
        &self,
        application_id: &ObjectId,
        emails: &[Email],
        phones: &[Phone],
    ) -> Result<Vec<Customer>, ServiceError> {
        Ok(self
            .store
            .search_customers(application_id, emails, phones)
            .await?)
    }

    /// Applies `changes` to a live customer.
    pub async fn update(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        changes: &CustomerChanges,
        actor: &Actor,
    ) -> Result<Customer, ServiceError> {
        Ok(self
            .store
            .update_customer(application_id, id, changes, actor, self.clock.now())
            .await?)
    }

    /// The customer linked to `subject` at `provider`, if any.
    pub async fn find_by_identity(
        &self,
        application_id: &ObjectId,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Customer>, ServiceError> {
        Ok(self
            .store
            .find_by_identity(application_id, provider, subject)
            .await?)
    }

    /// Links `subject` at `provider` to the customer.
    pub async fn link_identity(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        provider: &str,
        subject: &str,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .link_identity(
                application_id,
                customer_id,
                provider,
                subject,
                self.clock.now(),
            )
            .await?)
    }

    /// The live customer holding `contact`, if any, and whether they proved it.
    pub async fn holder(
        &self,
        application_id: &ObjectId,
        contact: &Contact,
    ) -> Result<Option<(Customer, bool)>, ServiceError> {
        let (emails, phones) = match contact {
            Contact::Email(email) => (vec![email.clone()], Vec::new()),
            Contact::Phone(phone) => (Vec::new(), vec![phone.clone()]),
        };
        Ok(self
            .store
            .search_customers(application_id, &emails, &phones)
            .await?
            .into_iter()
            .find_map(|customer| {
                let proven = contact.held_by(&customer)?;
                Some((customer, proven))
            }))
    }

    /// The live customer who proved `contact`, if any: the only holder a contact may
    /// identify for sign-in by code, by a provider or for a reset. An unproven contact
    /// identifies no one.
    pub async fn proven_holder(
        &self,
        application_id: &ObjectId,
        contact: &Contact,
    ) -> Result<Option<Customer>, ServiceError> {
        Ok(self
            .holder(application_id, contact)
            .await?
            .and_then(|(customer, proven)| proven.then_some(customer)))
    }

    /// Refuses a contact that a live customer other than `owner` has proven (a conflict
    /// naming it): one held unproven elsewhere goes to `owner` once they prove it.
    pub async fn ensure_not_proven_elsewhere(
        &self,
        application_id: &ObjectId,
        owner: &ObjectId,
        contact: &Contact,
    ) -> Result<(), ServiceError> {
        match self.proven_holder(application_id, contact).await? {
            Some(holder) if &holder.id != owner => {
                Err(StoreError::Conflict(conflict_of(contact)).into())
            }
            _ => Ok(()),
        }
    }

    /// Applies a customer's own change to one of their contacts (the edit's rules run on
    /// the stored lists, in one transaction).
    pub async fn edit_contacts(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        edit: &ContactEdit,
        actor: &Actor,
    ) -> Result<Customer, ServiceError> {
        Ok(self
            .store
            .edit_contacts(application_id, id, edit, actor, self.clock.now())
            .await?)
    }

    /// Blocks (`active: false`) or unblocks every customer of `ids`, all or none.
    pub async fn set_active(
        &self,
        application_id: &ObjectId,
        ids: &[ObjectId],
        active: bool,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .set_active(application_id, ids, active, actor, self.clock.now())
            .await?)
    }

    /// Archives a customer, freeing their contacts and ending their sessions.
    pub async fn archive(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .archive_customer(application_id, id, actor, self.clock.now())
            .await?)
    }

    /// Restores an archived customer unless another live customer now holds a contact, or
    /// undoes a customer's own deletion request while its grace window is open.
    pub async fn restore(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        match self
            .store
            .restore_customer(application_id, id, actor, now)
            .await
        {
            Err(StoreError::ArchiveState(false)) => Ok(self
                .store
                .cancel_deletion(application_id, id, actor, now)
                .await?),
            other => Ok(other?),
        }
    }

    /// Records the customer's own deletion request: signed out everywhere now, anonymised
    /// when `grace` has passed unless an administrator restores them first.
    pub async fn request_deletion(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
        grace: chrono::Duration,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        Ok(self
            .store
            .request_deletion(application_id, id, now + grace, actor, now)
            .await?)
    }

    /// The customer `id` of the application, archived or not; `NotFound` when there is none.
    pub async fn find(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Customer, ServiceError> {
        Ok(self
            .store
            .find_customer(application_id, id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Customer, id.as_str()))?)
    }

    /// The customer's timeline (the newest 500 changes), from the audit trail.
    pub async fn timeline(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Timeline, ServiceError> {
        let customer = self.find(application_id, id).await?;
        let trail = self
            .store
            .audit_trail(application_id, id, TIMELINE_ENTRIES)
            .await?;
        Ok(Timeline {
            delete_on: customer.deletion.map(|deletion| deletion.purge_at),
            entries: trail
                .into_iter()
                .map(|record| {
                    (
                        record.at,
                        describe(&record.action, record.reason.as_deref()),
                    )
                })
                .collect(),
        })
    }

    /// Anonymises the customers whose deletion grace window has ended (a batch at a time);
    /// returns how many.
    pub async fn anonymise_due(&self) -> Result<usize, ServiceError> {
        const BATCH: usize = 100;
        let mut total = 0;
        loop {
            let done = self.store.anonymise_due(self.clock.now(), BATCH).await?;
            total += done.len();
            if done.len() < BATCH {
                return Ok(total);
            }
        }
    }
}

/// The conflict that names `contact`.
fn conflict_of(contact: &Contact) -> Conflict {
    match contact {
        Contact::Email(email) => Conflict::Email(email.to_string()),
        Contact::Phone(phone) => Conflict::Phone(phone.to_string()),
    }
}
