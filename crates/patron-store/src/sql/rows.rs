//! Row types shared by both backends, and their conversion to domain types.

use std::collections::HashMap;

use patron_domain::customer::{Customer, Deletion, EmailEntry, PhoneEntry, Profile};
use patron_domain::email::Email;
use patron_domain::ids::{CompanyId, ObjectId};
use patron_domain::notification::{Channel, Message};
use patron_domain::phone::{Phone, Region};
use patron_domain::scope::Scope;
use patron_domain::time::from_millis;

use crate::error::StoreError;
use crate::records::{
    ApiClient, Application, OutboxMessage, OutboxStatus, Session, StoredAuthConfig, TokenGrant,
    TokenKind,
};

/// The customer columns every customer query selects, in [`CustomerRow`] order.
pub(crate) const CUSTOMER_COLUMNS: &str =
    "c.id, c.application_id, c.username, c.first_name, c.last_name, c.gender, c.dob, \
     c.profile_pic_url, c.external_id, c.rr_id, c.meta, c.active, c.archived, c.account_type, \
     c.created_at, c.updated_at, c.version, c.deleted_at, c.purge_at";

#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub(crate) id: String,
    pub(crate) application_id: String,
    pub(crate) username: String,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) gender: Option<String>,
    pub(crate) dob: Option<String>,
    pub(crate) profile_pic_url: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) rr_id: Option<String>,
    pub(crate) meta: String,
    pub(crate) active: bool,
    pub(crate) archived: bool,
    pub(crate) account_type: String,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) version: i64,
    pub(crate) deleted_at: Option<i64>,
    pub(crate) purge_at: Option<i64>,
}

impl CustomerRow {
    /// The pending deletion, when the customer asked for one.
    pub(crate) fn deletion(&self) -> Option<Deletion> {
        match (self.deleted_at, self.purge_at) {
            (Some(requested_at), Some(purge_at)) => Some(Deletion {
                requested_at: from_millis(requested_at),
                purge_at: from_millis(purge_at),
            }),
            _ => None,
        }
    }

    pub(crate) fn profile(&self) -> Result<Profile, StoreError> {
        Ok(Profile {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            gender: self.gender.clone(),
            dob: self.dob.clone(),
            profile_pic_url: self.profile_pic_url.clone(),
            external_id: self.external_id.clone(),
            rr_id: self.rr_id.clone(),
            meta: json_column("customers", &self.id, "meta", &self.meta)?,
        })
    }
}

/// Reads a JSON column of a record; unreadable text is [`StoreError::Corrupt`], naming the
/// table, the record and the column, never a default.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    table: &'static str,
    id: &str,
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|error| StoreError::corrupt(table, id, format!("{column}: {error}")))
}

/// Reads a space-separated scope list of a record.
fn scopes_column(table: &'static str, id: &str, text: &str) -> Result<Vec<Scope>, StoreError> {
    Scope::parse_list(text).map_err(|error| StoreError::corrupt(table, id, error.to_string()))
}

/// One email or phone of a customer, as the single contacts query returns both kinds.
#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    pub(crate) customer_id: String,
    /// `e` for an email, `p` for a phone.
    pub(crate) kind: String,
    /// The address, or the national number.
    pub(crate) value: String,
    /// The phone's country code (0 for emails).
    pub(crate) country_code: i32,
    pub(crate) is_primary: bool,
    pub(crate) verified: bool,
    pub(crate) active: bool,
}

/// Reads the emails and phones of the customers whose ids the placeholders `ids` hold, in
/// their stored order.
pub(crate) fn contacts_sql(ids: &str) -> String {
    format!(
        "SELECT customer_id, 'e' AS kind, email AS value, 0 AS country_code, is_primary, verified, \
         active, position FROM customer_emails WHERE customer_id IN ({ids}) UNION ALL SELECT \
         customer_id, 'p' AS kind, phone AS value, country_code, is_primary, verified, active, \
         position FROM customer_phones WHERE customer_id IN ({ids}) ORDER BY customer_id, kind, \
         position"
    )
}

/// Joins customer rows with their contact rows, keeping the customers' order.
pub(crate) fn assemble(
    rows: Vec<CustomerRow>,
    contacts: Vec<ContactRow>,
) -> Result<Vec<Customer>, StoreError> {
    let mut emails_by_customer: HashMap<String, Vec<EmailEntry>> = HashMap::new();
    let mut phones_by_customer: HashMap<String, Vec<PhoneEntry>> = HashMap::new();
    for row in contacts {
        if row.kind == "e" {
            emails_by_customer
                .entry(row.customer_id)
                .or_default()
                .push(EmailEntry {
                    email: Email::from_trusted(row.value),
                    primary: row.is_primary,
                    verified: row.verified,
                    active: row.active,
                });
        } else {
            let country_code = u16::try_from(row.country_code).map_err(|_| {
                StoreError::corrupt(
                    "customer_phones",
                    &row.customer_id,
                    format!("country code {}", row.country_code),
                )
            })?;
            phones_by_customer
                .entry(row.customer_id)
                .or_default()
                .push(PhoneEntry {
                    phone: Phone::from_trusted(country_code, row.value),
                    primary: row.is_primary,
                    verified: row.verified,
                    active: row.active,
                });
        }
    }
    rows.into_iter()
        .map(|row| {
            let profile = row.profile()?;
            let deletion = row.deletion();
            Ok(Customer {
                deletion,
                emails: emails_by_customer.remove(&row.id).unwrap_or_default(),
                phones: phones_by_customer.remove(&row.id).unwrap_or_default(),
                id: ObjectId::from_trusted(row.id),
                application_id: ObjectId::from_trusted(row.application_id),
                username: row.username,
                profile,
                active: row.active,
                archived: row.archived,
                account_type: row.account_type,
                created_at: from_millis(row.created_at),
                updated_at: from_millis(row.updated_at),
                version: row.version,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApplicationRow {
    pub(crate) id: String,
    pub(crate) company_id: String,
    pub(crate) name: String,
    pub(crate) token_digest: String,
    pub(crate) default_region: String,
    pub(crate) created_at: i64,
}

impl TryFrom<ApplicationRow> for Application {
    type Error = StoreError;

    fn try_from(row: ApplicationRow) -> Result<Self, StoreError> {
        let default_region = Region::parse(&row.default_region)
            .map_err(|error| StoreError::corrupt("applications", &row.id, error.to_string()))?;
        Ok(Application {
            id: ObjectId::from_trusted(row.id),
            company_id: CompanyId::from_trusted(row.company_id),
            name: row.name,
            token_digest: row.token_digest,
            default_region,
            created_at: from_millis(row.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub(crate) client_id: String,
    pub(crate) company_id: String,
    pub(crate) name: String,
    pub(crate) secret_digest: String,
    pub(crate) scopes: String,
    pub(crate) created_at: i64,
}

impl TryFrom<ClientRow> for ApiClient {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        Ok(ApiClient {
            scopes: scopes_column("api_clients", &row.client_id, &row.scopes)?,
            client_id: row.client_id,
            company_id: CompanyId::from_trusted(row.company_id),
            name: row.name,
            secret_digest: row.secret_digest,
            created_at: from_millis(row.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub(crate) token_digest: String,
    pub(crate) kind: String,
    pub(crate) client_id: String,
    pub(crate) company_id: String,
    pub(crate) scopes: String,
    pub(crate) family_id: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
}

/// The columns of [`TokenRow`], in its order.
pub(crate) const TOKEN_COLUMNS: &str =
    "token_digest, kind, client_id, company_id, scopes, family_id, created_at, expires_at";

impl TryFrom<TokenRow> for TokenGrant {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        // Tokens are keyed by digest; the error names the client instead of the secret.
        let kind = match row.kind.as_str() {
            "access" => TokenKind::Access,
            "refresh" => TokenKind::Refresh,
            other => {
                return Err(StoreError::corrupt(
                    "oauth_tokens",
                    &row.client_id,
                    format!("token kind '{other}'"),
                ))
            }
        };
        Ok(TokenGrant {
            scopes: scopes_column("oauth_tokens", &row.client_id, &row.scopes)?,
            digest: row.token_digest,
            kind,
            client_id: row.client_id,
            company_id: CompanyId::from_trusted(row.company_id),
            family_id: row.family_id,
            created_at: from_millis(row.created_at),
            expires_at: from_millis(row.expires_at),
        })
    }
}

/// Scopes as stored: space-separated wire names.
pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(Scope::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which unique index a database error reports, if it is a unique violation. SQLite names
/// the columns (`customer_emails.email`), PostgreSQL the index (`customer_emails_unique`);
/// both mention the table, which is what this looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UniqueIndex {
    Email,
    Phone,
    Username,
    Slug,
    Other,
}

pub(crate) fn unique_violation(error: &sqlx::Error) -> Option<UniqueIndex> {
    let sqlx::Error::Database(database_error) = error else {
        return None;
    };
    if !database_error.is_unique_violation() {
        return None;
    }
    let text = format!(
        "{} {}",
        database_error.constraint().unwrap_or_default(),
        database_error.message()
    );
    Some(if text.contains("attribute_definitions") {
        UniqueIndex::Slug
    } else if text.contains("customer_emails") {
        UniqueIndex::Email
    } else if text.contains("customer_phones") {
        UniqueIndex::Phone
    } else if text.contains("username") {
        UniqueIndex::Username
    } else {
        UniqueIndex::Other
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthConfigRow {
    pub(crate) application_id: String,
    pub(crate) document: String,
    pub(crate) secrets: Option<String>,
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl TryFrom<AuthConfigRow> for StoredAuthConfig {
    type Error = StoreError;

    fn try_from(row: AuthConfigRow) -> Result<Self, StoreError> {
        Ok(StoredAuthConfig {
            document: json_column(
                "auth_configs",
                &row.application_id,
                "document",
                &row.document,
            )?,
            secrets: row.secrets,
            version: row.version,
            created_at: from_millis(row.created_at),
            updated_at: from_millis(row.updated_at),
        })
    }
}

/// The session columns every session query selects, in [`SessionRow`] order.
pub(crate) const SESSION_COLUMNS: &str =
    "s.id, s.token_digest, s.application_id, s.customer_id, s.domain, s.user_agent, s.ip, \
     s.created_at, s.expires_at, s.last_seen_at";

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub(crate) id: String,
    pub(crate) token_digest: String,
    pub(crate) application_id: String,
    pub(crate) customer_id: String,
    pub(crate) domain: String,
    pub(crate) user_agent: String,
    pub(crate) ip: String,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) last_seen_at: i64,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            id: ObjectId::from_trusted(row.id),
            token_digest: row.token_digest,
            application_id: ObjectId::from_trusted(row.application_id),
            customer_id: ObjectId::from_trusted(row.customer_id),
            domain: row.domain,
            user_agent: row.user_agent,
            ip: row.ip,
            created_at: from_millis(row.created_at),
            expires_at: from_millis(row.expires_at),
            last_seen_at: from_millis(row.last_seen_at),
        }
    }
}

/// The outbox columns every outbox query selects, in [`OutboxRow`] order.
pub(crate) const OUTBOX_COLUMNS: &str =
    "id, application_id, channel, recipient, template, subject, body, data, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub(crate) id: String,
    pub(crate) application_id: String,
    pub(crate) channel: String,
    pub(crate) recipient: String,
    pub(crate) template: String,
    pub(crate) subject: String,
    pub(crate) body: String,
    pub(crate) data: String,
    pub(crate) status: String,
    pub(crate) attempts: i64,
    pub(crate) next_attempt_at: i64,
    pub(crate) last_error: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) sent_at: Option<i64>,
}

impl TryFrom<OutboxRow> for OutboxMessage {
    type Error = StoreError;

    fn try_from(row: OutboxRow) -> Result<Self, StoreError> {
        let corrupt = |reason: String| StoreError::corrupt("outbox", &row.id, reason);
        let channel = Channel::parse(&row.channel)
            .ok_or_else(|| corrupt(format!("channel '{}'", row.channel)))?;
        let status = match row.status.as_str() {
            "pending" => OutboxStatus::Pending,
            "sent" => OutboxStatus::Sent,
            "failed" => OutboxStatus::Failed,
            other => return Err(corrupt(format!("status '{other}'"))),
        };
        let attempts = u32::try_from(row.attempts)
            .map_err(|_| corrupt(format!("attempts {}", row.attempts)))?;
        let data = json_column("outbox", &row.id, "data", &row.data)?;
        Ok(OutboxMessage {
            id: ObjectId::from_trusted(row.id),
            application_id: ObjectId::from_trusted(row.application_id),
            message: Message {
                channel,
                to: row.recipient,
                template: row.template,
                subject: row.subject,
                text: row.body,
                data,
            },
            status,
            attempts,
            next_attempt_at: from_millis(row.next_attempt_at),
            last_error: row.last_error,
            created_at: from_millis(row.created_at),
            sent_at: row.sent_at.map(from_millis),
        })
    }
}

/// Session columns renamed so they can sit beside [`CUSTOMER_COLUMNS`] in one row.
pub(crate) const SESSION_AS_PREFIXED: &str = "s.id AS session_id, s.token_digest AS \
                                              session_token_digest, s.domain AS session_domain, \
                                              s.user_agent AS session_user_agent, s.ip AS \
                                              session_ip, s.created_at AS session_created_at, \
                                              s.expires_at AS session_expires_at, s.last_seen_at \
                                              AS session_last_seen_at";

/// A session and its customer, read in one query (the session check on every request).
#[derive(sqlx::FromRow)]
pub(crate) struct SessionCustomerRow {
    #[sqlx(flatten)]
    pub(crate) customer: CustomerRow,
    pub(crate) session_id: String,
    pub(crate) session_token_digest: String,
    pub(crate) session_domain: String,
    pub(crate) session_user_agent: String,
    pub(crate) session_ip: String,
    pub(crate) session_created_at: i64,
    pub(crate) session_expires_at: i64,
    pub(crate) session_last_seen_at: i64,
}

impl SessionCustomerRow {
    pub(crate) fn session(&self) -> Session {
        Session {
            id: ObjectId::from_trusted(self.session_id.clone()),
            token_digest: self.session_token_digest.clone(),
            application_id: ObjectId::from_trusted(self.customer.application_id.clone()),
            customer_id: ObjectId::from_trusted(self.customer.id.clone()),
            domain: self.session_domain.clone(),
            user_agent: self.session_user_agent.clone(),
            ip: self.session_ip.clone(),
            created_at: from_millis(self.session_created_at),
            expires_at: from_millis(self.session_expires_at),
            last_seen_at: from_millis(self.session_last_seen_at),
        }
    }
}
