//! A customer's own changes to their emails and phone numbers: adding one (unverified until
//! proven), proving one, making a verified one primary, removing one. Each edit turns the
//! current lists into new ones or refuses with the rule it breaks; the store applies the
//! result in the transaction that read the lists.

use crate::customer::{Customer, CustomerChanges, EmailEntry, PhoneEntry, MAX_CONTACTS};
use crate::email::Email;
use crate::phone::Phone;
use crate::DomainError;

/// One email or one phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// An email address.
    Email(Email),
    /// A phone number.
    Phone(Phone),
}

/// A change a customer makes to one of their contacts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactEdit {
    /// Adds the contact unverified (nothing changes when the customer already has it).
    Add(Contact),
    /// Records that the customer proved the contact, adding it when new; a proven contact
    /// becomes primary when its kind has no verified primary yet.
    Verify(Contact),
    /// Makes a verified contact the primary one of its kind.
    MakePrimary(Contact),
    /// Proves the contact and makes it primary (changing the primary contact by OTP).
    VerifyAsPrimary(Contact),
    /// Removes a contact that is neither primary nor the last verified one a required kind
    /// needs.
    Remove {
        /// The contact.
        contact: Contact,
        /// Whether the configuration requires every account to keep a contact of this kind.
        kind_required: bool,
    },
}

impl Contact {
    /// Whether `customer` holds this contact: `Some(proven)`, or `None` when they do not.
    pub fn held_by(&self, customer: &Customer) -> Option<bool> {
        match self {
            Contact::Email(email) => customer
                .emails
                .iter()
                .find(|entry| entry.email == *email)
                .map(|entry| entry.verified),
            Contact::Phone(phone) => customer
                .phones
                .iter()
                .find(|entry| entry.phone == *phone)
                .map(|entry| entry.verified),
        }
    }
}

/// The changes that take `contact` from `holder`, who holds it unproven, because someone
/// else has proven it: the entry goes, and when it was the primary one of its kind the next
/// entry (a verified one first) becomes primary. Unlike a customer's own removal this may
/// leave no contact at all: an unproven contact was never the holder's to keep. `None` when
/// `holder` does not hold `contact` unproven.
pub fn release_unproven(holder: &Customer, contact: &Contact) -> Option<CustomerChanges> {
    let mut emails = holder.emails.clone();
    let mut phones = holder.phones.clone();
    let released = match contact {
        Contact::Email(email) => take_unproven(&mut emails, email),
        Contact::Phone(phone) => take_unproven(&mut phones, phone),
    };
    released.then(|| CustomerChanges {
        emails: Some(emails),
        phones: Some(phones),
        ..CustomerChanges::default()
    })
}

/// Removes the unproven entry of `value`, handing its primary role on; false when there is
/// none.
fn take_unproven<E: Entry>(entries: &mut Vec<E>, value: &E::Value) -> bool {
    let Some(index) = entries
        .iter()
        .position(|entry| entry.value() == value && !entry.verified())
    else {
        return false;
    };
    let was_primary = entries.remove(index).primary();
    if was_primary && !entries.is_empty() {
        let next = entries.iter().position(Entry::verified).unwrap_or(0);
        make_primary(entries, next);
    }
    true
}

/// One contact list entry, whatever its kind.
trait Entry {
    type Value: PartialEq;
    fn value(&self) -> &Self::Value;
    fn flags(&mut self) -> (&mut bool, &mut bool);
    fn primary(&self) -> bool;
    fn verified(&self) -> bool;
    fn new(value: Self::Value, verified: bool) -> Self;
}

impl Entry for EmailEntry {
    type Value = Email;
    fn value(&self) -> &Email {
        &self.email
    }
    fn flags(&mut self) -> (&mut bool, &mut bool) {
        (&mut self.primary, &mut self.verified)
    }
    fn primary(&self) -> bool {
        self.primary
    }
    fn verified(&self) -> bool {
        self.verified
    }
    fn new(email: Email, verified: bool) -> Self {
        EmailEntry {
            email,
            primary: false,
            verified,
            active: true,
        }
    }
}

impl Entry for PhoneEntry {
    type Value = Phone;
    fn value(&self) -> &Phone {
        &self.phone
    }
    fn flags(&mut self) -> (&mut bool, &mut bool) {
        (&mut self.primary, &mut self.verified)
    }
    fn primary(&self) -> bool {
        self.primary
    }
    fn verified(&self) -> bool {
        self.verified
    }
    fn new(phone: Phone, verified: bool) -> Self {
        PhoneEntry {
            phone,
            primary: false,
            verified,
            active: true,
        }
    }
}

impl ContactEdit {
    /// The contact the edit is about.
    pub fn contact(&self) -> &Contact {
        match self {
            ContactEdit::Add(contact)
            | ContactEdit::Verify(contact)
            | ContactEdit::MakePrimary(contact)
            | ContactEdit::VerifyAsPrimary(contact)
            | ContactEdit::Remove { contact, .. } => contact,
        }
    }

    /// The changes this edit makes to `current`'s contacts (`None` when it changes nothing),
    /// or the rule it breaks.
    pub fn apply(&self, current: &Customer) -> Result<Option<CustomerChanges>, DomainError> {
        let mut emails = current.emails.clone();
        let mut phones = current.phones.clone();
        match self.contact() {
            Contact::Email(email) => edit(self, "email", &mut emails, email.clone())?,
            Contact::Phone(phone) => edit(self, "phone", &mut phones, phone.clone())?,
        }
        if emails.is_empty() && phones.is_empty() {
            return Err(DomainError::invalid(
                "contact",
                "a customer must keep at least one email or phone number",
            ));
        }
        if emails == current.emails && phones == current.phones {
            return Ok(None);
        }
        Ok(Some(CustomerChanges {
            emails: Some(emails),
            phones: Some(phones),
            ..CustomerChanges::default()
        }))
    }
}

fn edit<E: Entry>(
    edit: &ContactEdit,
    field: &str,
    entries: &mut Vec<E>,
    value: E::Value,
) -> Result<(), DomainError> {
    let position = entries.iter().position(|entry| *entry.value() == value);
    let not_found =
        || DomainError::invalid(field, format!("is not one of the customer's {field}s"));
    match edit {
        ContactEdit::Add(_) => {
            if position.is_none() {
                push(field, entries, E::new(value, false))?;
            }
        }
        ContactEdit::Verify(_) | ContactEdit::VerifyAsPrimary(_) => {
            let index = match position {
                Some(index) => index,
                None => push(field, entries, E::new(value, true))?,
            };
            *entries[index].flags().1 = true;
            let has_verified_primary = entries.iter().any(|e| e.primary() && e.verified());
            if matches!(edit, ContactEdit::VerifyAsPrimary(_)) || !has_verified_primary {
                make_primary(entries, index);
            }
        }
        ContactEdit::MakePrimary(_) => {
            let index = position.ok_or_else(not_found)?;
            if !entries[index].verified() {
                return Err(DomainError::invalid(
                    field,
                    "must be verified before it can become primary",
                ));
            }
            make_primary(entries, index);
        }
        ContactEdit::Remove { kind_required, .. } => {
            let index = position.ok_or_else(not_found)?;
            if entries[index].primary() && entries.len() > 1 {
                return Err(DomainError::invalid(
                    field,
                    "is the primary one: make another primary first",
                ));
            }
            let verified_left = entries
                .iter()
                .enumerate()
                .any(|(i, e)| i != index && e.verified());
            if *kind_required && !verified_left {
                return Err(DomainError::invalid(
                    field,
                    format!("is the last verified {field}, which this application requires"),
                ));
            }
            entries.remove(index);
        }
    }
    Ok(())
}

/// Appends `entry`, returning its index, unless the list is full.
fn push<E: Entry>(field: &str, entries: &mut Vec<E>, entry: E) -> Result<usize, DomainError> {
    if entries.len() >= MAX_CONTACTS {
        return Err(DomainError::invalid(
            field,
            format!("a customer may hold at most {MAX_CONTACTS} of them"),
        ));
    }
    entries.push(entry);
    Ok(entries.len() - 1)
}

/// Makes `index` the only primary entry and moves it first (lists are primary first).
fn make_primary<E: Entry>(entries: &mut Vec<E>, index: usize) {
    for (i, entry) in entries.iter_mut().enumerate() {
        *entry.flags().0 = i == index;
    }
    let entry = entries.remove(index);
    entries.insert(0, entry);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ObjectId;
    use crate::phone::Region;
    use chrono::DateTime;

    fn email(text: &str) -> Email {
        Email::parse("email", text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn phone(text: &str) -> Phone {
        Phone::parse("phone", text, Some(91), Region::INDIA).unwrap_or_else(|e| panic!("{e}"))
    }

    fn customer(emails: &[(&str, bool, bool)], phones: &[(&str, bool, bool)]) -> Customer {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        Customer {
            id: ObjectId::generate(at),
            application_id: ObjectId::generate(at),
            username: "asha_1".into(),
            profile: crate::customer::Profile::default(),
            emails: emails
                .iter()
                .map(|(e, primary, verified)| EmailEntry {
                    email: email(e),
                    primary: *primary,
                    verified: *verified,
                    active: true,
                })
                .collect(),
            phones: phones
                .iter()
                .map(|(p, primary, verified)| PhoneEntry {
                    phone: phone(p),
                    primary: *primary,
                    verified: *verified,
                    active: true,
                })
                .collect(),
            active: true,
            archived: false,
            account_type: "user".into(),
            created_at: at,
            updated_at: at,
            version: 0,
            deletion: None,
        }
    }

    fn emails_after(edit: ContactEdit, current: &Customer) -> Vec<(String, bool, bool)> {
        let changes = edit
            .apply(current)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("expected a change"));
        changes
            .emails
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.email.to_string(), e.primary, e.verified))
            .collect()
    }

    #[test]
    fn an_added_contact_is_unverified_and_not_primary() {
        let current = customer(&[("a@example.com", true, true)], &[]);
        let after = emails_after(
            ContactEdit::Add(Contact::Email(email("b@example.com"))),
            &current,
        );
        assert_eq!(
            after,
            [
                ("a@example.com".into(), true, true),
                ("b@example.com".into(), false, false)
            ]
        );
        let again = ContactEdit::Add(Contact::Email(email("a@example.com")));
        assert_eq!(
            again.apply(&current).unwrap_or_else(|e| panic!("{e}")),
            None
        );
    }

    #[test]
    fn a_verified_contact_becomes_primary_only_when_no_verified_primary_exists() {
        let unverified_primary = customer(
            &[("a@example.com", true, false)],
            &[("9876543210", true, true)],
        );
        let after = emails_after(
            ContactEdit::Verify(Contact::Email(email("b@example.com"))),
            &unverified_primary,
        );
        assert_eq!(
            after,
            [
                ("b@example.com".into(), true, true),
                ("a@example.com".into(), false, false)
            ]
        );
        let verified_primary = customer(
            &[
                ("a@example.com", true, true),
                ("b@example.com", false, false),
            ],
            &[],
        );
        let after = emails_after(
            ContactEdit::Verify(Contact::Email(email("b@example.com"))),
            &verified_primary,
        );
        assert_eq!(
            after,
            [
                ("a@example.com".into(), true, true),
                ("b@example.com".into(), false, true)
            ]
        );
        let after = emails_after(
            ContactEdit::VerifyAsPrimary(Contact::Email(email("c@example.com"))),
            &verified_primary,
        );
        assert_eq!(after[0], ("c@example.com".into(), true, true));
        assert_eq!(after.iter().filter(|e| e.1).count(), 1);
    }

    #[test]
    fn only_a_verified_contact_can_become_primary() {
        let current = customer(
            &[
                ("a@example.com", true, true),
                ("b@example.com", false, false),
            ],
            &[],
        );
        let refused =
            ContactEdit::MakePrimary(Contact::Email(email("b@example.com"))).apply(&current);
        assert!(refused.is_err());
        let unknown =
            ContactEdit::MakePrimary(Contact::Email(email("z@example.com"))).apply(&current);
        assert!(unknown.is_err());
        let current = customer(
            &[
                ("a@example.com", true, true),
                ("b@example.com", false, true),
            ],
            &[],
        );
        let after = emails_after(
            ContactEdit::MakePrimary(Contact::Email(email("b@example.com"))),
            &current,
        );
        assert_eq!(
            after,
            [
                ("b@example.com".into(), true, true),
                ("a@example.com".into(), false, true)
            ]
        );
    }

    #[test]
    fn removal_keeps_the_primary_and_the_last_required_verified_contact() {
        let current = customer(
            &[
                ("a@example.com", true, true),
                ("b@example.com", false, false),
            ],
            &[("9876543210", true, true)],
        );
        let remove = |text: &str, kind_required| ContactEdit::Remove {
            contact: Contact::Email(email(text)),
            kind_required,
        };
        assert!(
            remove("a@example.com", false).apply(&current).is_err(),
            "primary"
        );
        assert_eq!(
            emails_after(remove("b@example.com", true), &current),
            [("a@example.com".into(), true, true)]
        );
        let single = customer(
            &[("a@example.com", true, true)],
            &[("9876543210", true, true)],
        );
        assert!(
            remove("a@example.com", true).apply(&single).is_err(),
            "last required"
        );
        assert_eq!(emails_after(remove("a@example.com", false), &single), []);
        let only_email = customer(&[("a@example.com", true, true)], &[]);
        assert!(
            remove("a@example.com", false).apply(&only_email).is_err(),
            "last contact"
        );
    }

    #[test]
    fn lists_are_bounded() {
        let many: Vec<String> = (0..MAX_CONTACTS)
            .map(|i| format!("u{i}@example.com"))
            .collect();
        let entries: Vec<(&str, bool, bool)> = many
            .iter()
            .enumerate()
            .map(|(i, e)| (e.as_str(), i == 0, true))
            .collect();
        let full = customer(&entries, &[]);
        assert!(ContactEdit::Add(Contact::Email(email("new@example.com")))
            .apply(&full)
            .is_err());
    }

    #[test]
    fn a_proof_elsewhere_takes_an_unproven_contact_and_hands_its_primary_role_on() {
        let holder = customer(
            &[
                ("a@example.com", true, false),
                ("b@example.com", false, true),
            ],
            &[("9876543210", true, true)],
        );
        let contact = Contact::Email(email("a@example.com"));
        assert_eq!(contact.held_by(&holder), Some(false));
        let changes = release_unproven(&holder, &contact).unwrap_or_else(|| panic!("released"));
        let emails = changes.emails.unwrap_or_default();
        assert_eq!(emails.len(), 1);
        assert_eq!(emails[0].email, email("b@example.com"));
        assert!(emails[0].primary, "the verified one becomes primary");
        assert_eq!(changes.phones.unwrap_or_default(), holder.phones);
    }

    #[test]
    fn a_proven_contact_is_never_released_and_the_last_unproven_one_may_go() {
        let proven = customer(&[("a@example.com", true, true)], &[]);
        let contact = Contact::Email(email("a@example.com"));
        assert_eq!(contact.held_by(&proven), Some(true));
        assert!(release_unproven(&proven, &contact).is_none());
        let stranger = customer(&[], &[("9876543210", true, false)]);
        let phone = Contact::Phone(phone("9876543210"));
        let changes = release_unproven(&stranger, &phone).unwrap_or_else(|| panic!("released"));
        assert_eq!(changes.phones, Some(Vec::new()));
        assert_eq!(phone.held_by(&customer(&[], &[])), None);
        assert!(release_unproven(&customer(&[], &[]), &phone).is_none());
    }
}
