//! Customers: the profile a sales channel keeps for each shopper, and the rules their
//! contact details obey.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::email::Email;
use crate::ids::ObjectId;
use crate::phone::Phone;
use crate::DomainError;

/// One email address of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailEntry {
    /// The canonical address.
    pub email: Email,
    /// Whether this is the customer's main address.
    pub primary: bool,
    /// Whether the customer proved they own it.
    pub verified: bool,
    /// Whether it may be used (to log in, to be contacted).
    pub active: bool,
}

/// One phone number of a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneEntry {
    /// The validated number.
    pub phone: Phone,
    /// Whether this is the customer's main number.
    pub primary: bool,
    /// Whether the customer proved they own it.
    pub verified: bool,
    /// Whether it may be used.
    pub active: bool,
}

/// A customer as stored: everything the API can show, and nothing secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    /// The customer's id (`_id` and `user_id` on the wire).
    pub id: ObjectId,
    /// The sales channel the customer belongs to.
    pub application_id: ObjectId,
    /// Unique within the application.
    pub username: String,
    /// The editable profile.
    pub profile: Profile,
    /// Email addresses, primary first.
    pub emails: Vec<EmailEntry>,
    /// Phone numbers, primary first.
    pub phones: Vec<PhoneEntry>,
    /// `false` when blocked: the customer cannot sign in.
    pub active: bool,
    /// `true` when archived: hidden from lists, contacts free for new accounts.
    pub archived: bool,
    /// Account kind; `user` for every shopper.
    pub account_type: String,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
    /// When the customer last changed.
    pub updated_at: DateTime<Utc>,
    /// Document version (`__v`): incremented by every change.
    pub version: i64,
    /// Set while the customer's own deletion request waits out its grace window.
    pub deletion: Option<Deletion>,
}

/// A customer's request to delete their account: sign-in is refused from `requested_at`,
/// an administrator may undo it until `purge_at`, and then the account is anonymised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// When the customer asked.
    pub requested_at: DateTime<Utc>,
    /// When the grace window ends.
    pub purge_at: DateTime<Utc>,
}

/// The free-form, editable part of a customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Free string, e.g. `male`, `female`.
    pub gender: Option<String>,
    /// Date of birth as the client sent it.
    pub dob: Option<String>,
    /// Avatar URL.
    pub profile_pic_url: Option<String>,
    /// The merchant's own id for this customer.
    pub external_id: Option<String>,
    /// Another external reference Fynd carries.
    pub rr_id: Option<String>,
    /// Arbitrary JSON object the merchant keeps on the customer.
    pub meta: Map<String, Value>,
}

/// Everything needed to insert a new customer; built by [`NewCustomer::new`], which applies
/// the creation rules.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCustomer {
    /// The id to insert under.
    pub id: ObjectId,
    /// Owning application.
    pub application_id: ObjectId,
    /// The username: given by the client, or generated.
    pub username: String,
    /// Whether `username` was generated (a collision may then be retried with another).
    pub username_generated: bool,
    /// Profile fields.
    pub profile: Profile,
    /// Contacts (already normalised, at most one primary of each kind).
    pub emails: Vec<EmailEntry>,
    /// Phone numbers.
    pub phones: Vec<PhoneEntry>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Whether the shopper just proved the verified contacts: another account holding one
    /// of them unproven then loses it to this customer (instead of the creation being a
    /// conflict). See [`crate::contacts::release_unproven`].
    pub takes_unproven_contacts: bool,
}

/// Longest value accepted for a short text field (names, ids, gender).
pub const MAX_TEXT: usize = 256;
/// Largest serialised `meta` object accepted.
pub const MAX_META_BYTES: usize = 16 * 1024;
/// Most contacts of one kind a customer may hold.
pub const MAX_CONTACTS: usize = 10;

impl NewCustomer {
    /// Applies the creation rules: at least one email or phone; a valid username or a
    /// generated one (`suffix` makes it unique, see [`generated_username`]).
    pub fn new(
        application_id: ObjectId,
        username: Option<String>,
        profile: Profile,
        email: Option<Email>,
        phone: Option<Phone>,
        suffix: u32,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        if email.is_none() && phone.is_none() {
            return Err(DomainError::invalid(
                "phone_number",
                "phone_number or email is required",
            ));
        }
        let (username, username_generated) = match username {
            Some(name) => (validate_username(&name)?, false),
            None => (
                generated_username(email.as_ref(), phone.as_ref(), suffix),
                true,
            ),
        };
        let emails = email
            .map(|email| EmailEntry {
                email,
                primary: true,
                verified: false,
                active: true,
            })
            .into_iter()
            .collect();
        let phones = phone
            .map(|phone| PhoneEntry {
                phone,
                primary: true,
                verified: false,
                active: true,
            })
            .into_iter()
            .collect();
        Ok(Self {
            id: ObjectId::generate(now),
            application_id,
            username,
            username_generated,
            profile,
            emails,
            phones,
            created_at: now,
            takes_unproven_contacts: false,
        })
    }
}

impl NewCustomer {
    /// Marks every contact verified or not: an administrator creating a customer vouches for
    /// its contacts unless told otherwise, while a self-registration starts unverified.
    pub fn with_verified_contacts(self, verified: bool) -> Self {
        self.with_verified(verified, verified)
    }

    /// Marks the verified contacts as just proven by the shopper (see
    /// [`NewCustomer::takes_unproven_contacts`]).
    pub fn proven_by_shopper(mut self) -> Self {
        self.takes_unproven_contacts = true;
        self
    }

    /// Marks the emails and the phones verified or not, each kind on its own (a shopper who
    /// proved a number by OTP has a verified phone and may have an unproven email).
    pub fn with_verified(mut self, email: bool, phone: bool) -> Self {
        self.emails
            .iter_mut()
            .for_each(|entry| entry.verified = email);
        self.phones
            .iter_mut()
            .for_each(|entry| entry.verified = phone);
        self
    }
}

/// Changes an update request makes; `None` leaves a field as it is. Contact lists, when
/// present, replace the stored lists wholesale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerChanges {
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// New gender.
    pub gender: Option<String>,
    /// New date of birth (as the client sent it).
    pub dob: Option<String>,
    /// New avatar URL.
    pub profile_pic_url: Option<String>,
    /// New external id.
    pub external_id: Option<String>,
    /// New `rr_id`.
    pub rr_id: Option<String>,
    /// New meta object (replaces the old one).
    pub meta: Option<Map<String, Value>>,
    /// Replacement email list.
    pub emails: Option<Vec<EmailEntry>>,
    /// Replacement phone list.
    pub phones: Option<Vec<PhoneEntry>>,
}

impl CustomerChanges {
    /// Whether applying these changes to `current` would change nothing (then nothing is
    /// written and the version stays).
    pub fn is_noop_for(&self, current: &Customer) -> bool {
        let mut profile = current.profile.clone();
        self.apply_to(&mut profile);
        profile == current.profile
            && self
                .emails
                .as_ref()
                .is_none_or(|emails| *emails == current.emails)
            && self
                .phones
                .as_ref()
                .is_none_or(|phones| *phones == current.phones)
    }

    /// Refuses changes that would leave `current` with neither an email nor a phone number.
    pub fn check_leaves_a_contact(&self, current: &Customer) -> Result<(), DomainError> {
        let emails_left = self
            .emails
            .as_ref()
            .map_or(!current.emails.is_empty(), |emails| !emails.is_empty());
        let phones_left = self
            .phones
            .as_ref()
            .map_or(!current.phones.is_empty(), |phones| !phones.is_empty());
        if emails_left || phones_left {
            Ok(())
        } else {
            Err(DomainError::invalid(
                "emails",
                "a customer must keep at least one email or phone number",
            ))
        }
    }

    /// Applies these changes to `profile`.
    pub fn apply_to(&self, profile: &mut Profile) {
        let set = |target: &mut Option<String>, value: &Option<String>| {
            if let Some(value) = value {
                *target = Some(value.clone());
            }
        };
        set(&mut profile.first_name, &self.first_name);
        set(&mut profile.last_name, &self.last_name);
        set(&mut profile.gender, &self.gender);
        set(&mut profile.dob, &self.dob);
        set(&mut profile.profile_pic_url, &self.profile_pic_url);
        set(&mut profile.external_id, &self.external_id);
        set(&mut profile.rr_id, &self.rr_id);
        if let Some(meta) = &self.meta {
            profile.meta = meta.clone();
        }
    }
}

/// Checks a short free-text field: trimmed, at most [`MAX_TEXT`] characters, no control
/// characters.
pub fn validate_text(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// Checks the `meta` object's size.
pub fn validate_meta(meta: &Map<String, Value>) -> Result<(), DomainError> {
    let size = serde_json::to_string(meta).map_or(usize::MAX, |text| text.len());
    if size > MAX_META_BYTES {
        return Err(DomainError::invalid(
            "meta",
            format!("must serialise to at most {MAX_META_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Checks a client-chosen username: 3 to 100 characters of letters, digits and `_ . - @ +`.
pub fn validate_username(value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    let ok = (3..=100).contains(&value.chars().count())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-@+".contains(c));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(DomainError::invalid(
            "username",
            "must be 3 to 100 characters of letters, digits and _ . - @ +",
        ))
    }
}

/// Longest part of a generated username taken from the email's local part.
const USERNAME_BASE_CHARS: usize = 30;

/// A short, readable username: the email's local part (letters and digits, other characters
/// as `_`) or the national phone number, then `_<suffix>`, e.g. `asha_94781389`. Usernames
/// are unique per application (the database holds that); a taken one is drawn again with
/// another suffix.
pub fn generated_username(email: Option<&Email>, phone: Option<&Phone>, suffix: u32) -> String {
    let local: String = email
        .and_then(|email| email.as_str().split('@').next())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(USERNAME_BASE_CHARS)
        .collect();
    let local = local.trim_matches('_');
    let base = match (local.is_empty(), phone) {
        (false, _) => local.to_owned(),
        (true, Some(phone)) => phone.national().to_owned(),
        (true, None) => "user".to_owned(),
    };
    format!("{base}_{suffix}")
}

/// What [`normalise_contacts`] needs to know of an email or phone entry.
pub trait Contact {
    /// The value that must be unique within one list.
    fn key(&self) -> String;
    /// Whether the entry is marked primary.
    fn is_primary(&self) -> bool;
    /// The entry's primary flag, to set it.
    fn primary_mut(&mut self) -> &mut bool;
}

impl Contact for EmailEntry {
    fn key(&self) -> String {
        self.email.as_str().to_owned()
    }
    fn is_primary(&self) -> bool {
        self.primary
    }
    fn primary_mut(&mut self) -> &mut bool {
        &mut self.primary
    }
}

impl Contact for PhoneEntry {
    fn key(&self) -> String {
        self.phone.to_string()
    }
    fn is_primary(&self) -> bool {
        self.primary
    }
    fn primary_mut(&mut self) -> &mut bool {
        &mut self.primary
    }
}

/// Normalises a replacement contact list: no duplicates and at most one primary (400
/// otherwise); when none is marked primary the first one becomes primary; the primary
/// entry is moved to the front.
pub fn normalise_contacts<T: Contact>(
    field: &str,
    mut entries: Vec<T>,
) -> Result<Vec<T>, DomainError> {
    if entries.len() > MAX_CONTACTS {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_CONTACTS} entries are allowed"),
        ));
    }
    for (index, entry) in entries.iter().enumerate() {
        if entries[..index]
            .iter()
            .any(|earlier| earlier.key() == entry.key())
        {
            return Err(DomainError::invalid(
                format!("{field}[{index}]"),
                "is listed twice",
            ));
        }
    }
    let primaries = entries.iter().filter(|entry| entry.is_primary()).count();
    if primaries > 1 {
        return Err(DomainError::invalid(
            field,
            "at most one entry may be primary",
        ));
    }
    let primary_index = entries.iter().position(Contact::is_primary).unwrap_or(0);
    if let Some(first) = entries.get_mut(primary_index) {
        *first.primary_mut() = true;
        let primary = entries.remove(primary_index);
        entries.insert(0, primary);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::Region;
    use chrono::TimeZone;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn generated_usernames_are_short_valid_usernames(
            local in "[a-zA-Z0-9._%+-]{1,64}",
            suffix in 10_000u32..100_000_000,
        ) {
            let email = Email::parse("email", &format!("{local}@example.com"));
            prop_assume!(email.is_ok());
            let email = email.unwrap();
            let username = generated_username(Some(&email), None, suffix);
            prop_assert!(validate_username(&username).is_ok(), "{}", username);
            prop_assert!(username.len() <= USERNAME_BASE_CHARS + 9, "{}", username);
            let tail = format!("_{suffix}");
            prop_assert!(username.ends_with(&tail), "{}", username);
        }
    }

    #[test]
    fn usernames_fall_back_to_the_phone_then_to_user() {
        let phone = Phone::parse("phone", "9876543210", None, Region::INDIA).unwrap();
        let odd = Email::parse("email", "+.+@example.com").unwrap();
        assert_eq!(
            generated_username(Some(&odd), Some(&phone), 12345),
            "9876543210_12345"
        );
        assert_eq!(generated_username(None, None, 12345), "user_12345");
    }

    fn email(value: &str, primary: bool) -> EmailEntry {
        EmailEntry {
            email: Email::parse("email", value).unwrap(),
            primary,
            verified: false,
            active: true,
        }
    }

    fn app() -> ObjectId {
        ObjectId::parse("application_id", "000000000000000000000001").unwrap()
    }

    #[test]
    fn contacts_keep_one_primary_first() {
        let list = normalise_contacts(
            "emails",
            vec![email("a@x.io", false), email("b@x.io", true)],
        )
        .unwrap();
        assert_eq!(list[0].email.as_str(), "b@x.io");
        assert!(list[0].primary && !list[1].primary);
        let promoted = normalise_contacts(
            "emails",
            vec![email("a@x.io", false), email("b@x.io", false)],
        )
        .unwrap();
        assert!(promoted[0].primary);
        assert!(
            normalise_contacts("emails", vec![email("a@x.io", true), email("b@x.io", true)])
                .is_err()
        );
        let twice = normalise_contacts(
            "emails",
            vec![email("a@x.io", false), email("A@x.io", false)],
        )
        .unwrap_err();
        assert!(twice.to_string().contains("emails[1]"));
    }

    #[test]
    fn creation_needs_a_contact_and_generates_usernames() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let none = NewCustomer::new(app(), None, Profile::default(), None, None, 1, now);
        assert!(none.is_err());
        let phone = Phone::parse("phone_number", "9876543210", None, Region::INDIA).unwrap();
        let created = NewCustomer::new(
            app(),
            None,
            Profile::default(),
            Some(Email::parse("email", "Asha@Example.com").unwrap()),
            Some(phone),
            10001,
            now,
        )
        .unwrap();
        assert_eq!(
            created.username, "asha_10001",
            "short, readable, no application id"
        );
        assert!(created.username_generated);
        assert!(created.emails[0].primary && created.phones[0].primary);
        assert!(NewCustomer::new(
            app(),
            Some("a b".into()),
            Profile::default(),
            None,
            created.phones.first().map(|p| p.phone.clone()),
            1,
            now
        )
        .is_err());
    }

    #[test]
    fn text_and_meta_limits() {
        assert_eq!(validate_text("first_name", "  Asha ").unwrap(), "Asha");
        assert!(validate_text("first_name", &"x".repeat(MAX_TEXT + 1)).is_err());
        assert!(validate_text("first_name", "a\u{0}b").is_err());
        let mut meta = Map::new();
        meta.insert("k".into(), Value::String("v".repeat(MAX_META_BYTES)));
        assert!(validate_meta(&meta).is_err());
    }

    fn stored(email_address: Option<&str>, national: Option<&str>) -> Customer {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let new = NewCustomer::new(
            app(),
            None,
            Profile {
                first_name: Some("A".into()),
                ..Profile::default()
            },
            email_address.map(|e| Email::parse("email", e).unwrap()),
            national.map(|p| Phone::parse("phone", p, None, Region::INDIA).unwrap()),
            1,
            now,
        )
        .unwrap();
        Customer {
            id: new.id,
            application_id: new.application_id,
            username: new.username,
            profile: new.profile,
            emails: new.emails,
            phones: new.phones,
            active: true,
            archived: false,
            account_type: "user".into(),
            created_at: now,
            updated_at: now,
            version: 0,
            deletion: None,
        }
    }

    #[test]
    fn noop_changes_are_detected() {
        let current = stored(Some("a@x.io"), None);
        assert!(CustomerChanges::default().is_noop_for(&current));
        assert!(CustomerChanges {
            first_name: Some("A".into()),
            emails: Some(current.emails.clone()),
            ..CustomerChanges::default()
        }
        .is_noop_for(&current));
        assert!(!CustomerChanges {
            first_name: Some("B".into()),
            ..CustomerChanges::default()
        }
        .is_noop_for(&current));
    }

    #[test]
    fn a_customer_keeps_one_contact() {
        let current = stored(Some("a@x.io"), Some("9876543210"));
        let drop_emails = CustomerChanges {
            emails: Some(vec![]),
            ..CustomerChanges::default()
        };
        assert!(drop_emails.check_leaves_a_contact(&current).is_ok());
        let drop_both = CustomerChanges {
            emails: Some(vec![]),
            phones: Some(vec![]),
            ..CustomerChanges::default()
        };
        assert!(drop_both.check_leaves_a_contact(&current).is_err());
        let email_only = stored(Some("a@x.io"), None);
        assert!(drop_emails.check_leaves_a_contact(&email_only).is_err());
    }

    #[test]
    fn admin_created_contacts_can_be_verified() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let new = NewCustomer::new(
            app(),
            None,
            Profile::default(),
            Some(Email::parse("email", "a@x.io").unwrap()),
            None,
            1,
            now,
        )
        .unwrap()
        .with_verified_contacts(true);
        assert!(new.emails[0].verified);
    }

    #[test]
    fn changes_apply_only_given_fields() {
        let mut profile = Profile {
            first_name: Some("A".into()),
            last_name: Some("B".into()),
            ..Profile::default()
        };
        CustomerChanges {
            first_name: Some("C".into()),
            ..CustomerChanges::default()
        }
        .apply_to(&mut profile);
        assert_eq!(profile.first_name.as_deref(), Some("C"));
        assert_eq!(profile.last_name.as_deref(), Some("B"));
    }
}
