//! The store layer's error type.

/// Which uniqueness rule a write would break, with the value in question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// Another live customer of the application holds this email.
    Email(String),
    /// Another live customer of the application holds this phone number.
    Phone(String),
    /// Another customer of the application has this username.
    Username(String),
    /// A record with this id exists already.
    Id(String),
    /// Another attribute definition of the application has this slug.
    Slug(String),
    /// Another writer saved the record first.
    Version,
}

/// The kind of record a store error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A customer of an application.
    Customer,
    /// A storefront session.
    Session,
    /// A password reset code.
    ResetCode,
    /// An attribute definition.
    AttributeDefinition,
    /// A customer's value of an attribute.
    AttributeValue,
    /// A customer group.
    Group,
    /// A background job.
    Job,
    /// A sales-channel application.
    Application,
    /// A platform API client.
    Client,
}

impl Entity {
    /// The record's name in messages, e.g. `application`.
    pub fn noun(self) -> &'static str {
        match self {
            Entity::Customer => "customer",
            Entity::Session => "session",
            Entity::ResetCode => "reset code",
            Entity::AttributeDefinition => "attribute definition",
            Entity::AttributeValue => "attribute value",
            Entity::Group => "group",
            Entity::Job => "job",
            Entity::Application => "application",
            Entity::Client => "client",
        }
    }
}

/// Why a store call failed. `ArchiveState(true)` means "refused because archived",
/// `ArchiveState(false)` "refused because not archived".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule enforced by the database.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// The record addressed does not exist (in this application).
    #[error("{} {id} not found", entity.noun())]
    NotFound {
        /// What kind of record.
        entity: Entity,
        /// The id asked for.
        id: String,
    },
    /// Some ids of a batch do not exist; nothing was changed.
    #[error("unknown customers: {0:?}")]
    UnknownCustomers(Vec<String>),
    /// The customer exists but its archive state forbids the operation.
    #[error("customer is {}archived", if *.0 { "" } else { "not " })]
    ArchiveState(bool),
    /// The customer is blocked, so the operation (a new session) is refused.
    #[error("customer is blocked")]
    Blocked,
    /// The customer asked to delete their account (or was anonymised after it).
    #[error("the customer deleted their account")]
    Deleted,
    /// The record is locked against changes.
    #[error("{entity:?} {id} is locked")]
    Locked {
        /// What kind of record.
        entity: Entity,
        /// Its id.
        id: String,
    },
    /// The record is used by others (named) and cannot be deleted.
    #[error("{entity:?} {id} is in use by {users:?}")]
    InUse {
        /// What kind of record.
        entity: Entity,
        /// Its id.
        id: String,
        /// The names of the records that use it.
        users: Vec<String>,
    },
    /// The write would break a domain rule that depends on the stored state.
    #[error("{0}")]
    Rule(#[from] patron_domain::DomainError),
    /// A stored record cannot be read back (a value outside its type, unreadable JSON):
    /// never replaced by a default, so nothing is silently lost or rewritten.
    #[error("unreadable {table} record {id}: {reason}")]
    Corrupt {
        /// The table the record is in.
        table: &'static str,
        /// The record's id.
        id: String,
        /// What could not be read.
        reason: String,
    },
    /// The database URL or options are unusable.
    #[error("configuration: {0}")]
    Configuration(String),
    /// The database failed or is unreachable.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// No `entity` with this id.
    pub fn not_found(entity: Entity, id: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// An unreadable record of `table`.
    pub(crate) fn corrupt(table: &'static str, id: &str, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            table,
            id: id.to_owned(),
            reason: reason.into(),
        }
    }

    /// Whether the database could not be reached at all (as opposed to refusing a query).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
            )
        )
    }
}
