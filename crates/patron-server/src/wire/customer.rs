//! Customer request bodies and the customer object as Fynd's SDK expects it. Responses never
//! carry a password hash, salt or history, even though the seed's `UserSchema` lists them.

use patron_domain::customer::{Customer, EmailEntry, PhoneEntry};
use patron_domain::time::to_wire;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// `CreateUserRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateCustomerBody {
    #[schema(required = true)]
    pub(crate) phone_number: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) dob: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub(crate) meta: Option<Map<String, Value>>,
    pub(crate) external_id: Option<String>,
    pub(crate) rr_id: Option<String>,
}

/// `UpdateUserRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateCustomerBody {
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) rr_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub(crate) meta: Option<Map<String, Value>>,
    pub(crate) phone_numbers: Option<Vec<PhoneIn>>,
    pub(crate) emails: Option<Vec<EmailIn>>,
}

/// `UserPhoneNumbers` (request): `country_code` arrives as a string, sometimes a number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PhoneIn {
    pub(crate) phone: Option<String>,
    #[serde(default, deserialize_with = "country_code")]
    pub(crate) country_code: Option<String>,
    pub(crate) active: Option<bool>,
    pub(crate) primary: Option<bool>,
    pub(crate) verified: Option<bool>,
}

/// `UserEmails` (request).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct EmailIn {
    pub(crate) email: Option<String>,
    pub(crate) active: Option<bool>,
    pub(crate) primary: Option<bool>,
    pub(crate) verified: Option<bool>,
}

fn country_code<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Code {
        Text(String),
        Number(u64),
    }
    Ok(
        Option::<Code>::deserialize(deserializer)?.map(|code| match code {
            Code::Text(text) => text,
            Code::Number(number) => number.to_string(),
        }),
    )
}

/// `BlockUserRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ActivationBody {
    #[schema(required = true)]
    pub(crate) status: Option<bool>,
    #[schema(required = true)]
    pub(crate) user_id: Option<Vec<String>>,
    #[schema(required = true)]
    pub(crate) reason: Option<String>,
}

/// `ArchiveUserRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ArchiveBody {
    #[schema(required = true)]
    pub(crate) user_id: Option<String>,
}

/// `UnDeleteUserRequestSchema`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UndeleteBody {
    #[schema(required = true)]
    pub(crate) user_id: Option<String>,
    #[schema(required = true)]
    pub(crate) reason: Option<String>,
    #[schema(required = true)]
    pub(crate) reason_id: Option<String>,
}

/// The customer object of every response (`UserSchema` and `UserSearchSchema` at once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CustomerOut {
    #[serde(rename = "_id")]
    id: String,
    user_id: String,
    application_id: String,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dob: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_pic_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rr_id: Option<String>,
    #[schema(value_type = Object)]
    meta: Map<String, Value>,
    phone_numbers: Vec<PhoneOut>,
    emails: Vec<EmailOut>,
    active: bool,
    archive: bool,
    status: &'static str,
    account_type: String,
    has_old_password_hash: bool,
    created_at: String,
    updated_at: String,
    #[serde(rename = "__v")]
    version: i64,
}

/// `PhoneNumber` (response): numeric `country_code`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct PhoneOut {
    phone: String,
    country_code: u16,
    active: bool,
    primary: bool,
    verified: bool,
}

/// `Email` (response).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct EmailOut {
    email: String,
    active: bool,
    primary: bool,
    verified: bool,
}

impl From<&PhoneEntry> for PhoneOut {
    fn from(entry: &PhoneEntry) -> Self {
        Self {
            phone: entry.phone.national().to_owned(),
            country_code: entry.phone.country_code(),
            active: entry.active,
            primary: entry.primary,
            verified: entry.verified,
        }
    }
}

impl From<&EmailEntry> for EmailOut {
    fn from(entry: &EmailEntry) -> Self {
        Self {
            email: entry.email.to_string(),
            active: entry.active,
            primary: entry.primary,
            verified: entry.verified,
        }
    }
}

impl From<Customer> for CustomerOut {
    fn from(customer: Customer) -> Self {
        let profile = customer.profile;
        Self {
            id: customer.id.to_string(),
            user_id: customer.id.to_string(),
            application_id: customer.application_id.to_string(),
            username: customer.username,
            first_name: profile.first_name,
            last_name: profile.last_name,
            gender: profile.gender,
            dob: profile.dob,
            profile_pic_url: profile.profile_pic_url,
            external_id: profile.external_id,
            rr_id: profile.rr_id,
            meta: profile.meta,
            phone_numbers: customer.phones.iter().map(PhoneOut::from).collect(),
            emails: customer.emails.iter().map(EmailOut::from).collect(),
            active: customer.active,
            archive: customer.archived,
            status: if customer.archived {
                "archived"
            } else {
                "activated"
            },
            account_type: customer.account_type,
            has_old_password_hash: false,
            created_at: to_wire(customer.created_at),
            updated_at: to_wire(customer.updated_at),
            version: customer.version,
        }
    }
}

/// `LoginSuccess`: what a sign-in answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LoginSuccessOut {
    user: CustomerOut,
    request_id: String,
    register_token: &'static str,
}

/// The answer to a successful sign-in of `customer`.
pub(crate) fn login_success(customer: Customer) -> LoginSuccessOut {
    LoginSuccessOut {
        user: CustomerOut::from(customer),
        request_id: crate::telemetry::current_request_id().unwrap_or_default(),
        register_token: "",
    }
}

/// `{"user": UserSchema}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserOut {
    user: CustomerOut,
}

impl From<Customer> for UserOut {
    fn from(customer: Customer) -> Self {
        Self {
            user: customer.into(),
        }
    }
}

/// `{"users": [UserSchema]}`: a search's matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UsersOut {
    users: Vec<CustomerOut>,
}

impl From<Vec<Customer>> for UsersOut {
    fn from(customers: Vec<Customer>) -> Self {
        Self {
            users: customers.into_iter().map(CustomerOut::from).collect(),
        }
    }
}

/// `GetUserTimeline`: a customer's history, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineOut {
    /// When a requested deletion takes effect (absent when none is pending).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_on: Option<String>,
    /// The entries.
    pub timeline: Vec<TimelineEntryOut>,
}

/// `UserTimeline`: one entry (`sub_title` is the one field of the model that may be null).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineEntryOut {
    /// When it happened.
    pub date: String,
    /// What happened.
    pub title: String,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it is shown by default.
    pub visible: bool,
    /// The reason or detail recorded with it.
    pub sub_title: Option<String>,
}

impl From<patron_service::Timeline> for TimelineOut {
    fn from(timeline: patron_service::Timeline) -> Self {
        Self {
            delete_on: timeline.delete_on.map(to_wire),
            timeline: timeline
                .entries
                .into_iter()
                .map(|(at, entry)| TimelineEntryOut {
                    date: to_wire(at),
                    title: entry.title,
                    kind: entry.kind,
                    visible: entry.visible,
                    sub_title: entry.sub_title,
                })
                .collect(),
        }
    }
}
