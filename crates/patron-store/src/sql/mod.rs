//! What the SQLite and PostgreSQL stores share: SQL text, row types, the translation of
//! customer filters into SQL, and the store implementations themselves (stamped for each
//! backend by [`impl_stores`], since the two differ only in their connection types).

pub(crate) mod filter;
pub(crate) mod rows;
pub(crate) mod segment;
pub(crate) mod stores;

/// A write transaction, holding (on SQLite) this process's writer lock until it ends.
/// Derefs to the connection, so store code uses it like a plain transaction.
pub(crate) struct WriteTransaction<DB: sqlx::Database> {
    tx: sqlx::Transaction<'static, DB>,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<DB: sqlx::Database> WriteTransaction<DB> {
    /// Wraps `tx`, keeping `writer` held while it lives.
    pub(crate) fn new(
        tx: sqlx::Transaction<'static, DB>,
        writer: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Self {
        Self {
            tx,
            _writer: writer,
        }
    }

    /// Commits, then releases the writer lock.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTransaction<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTransaction<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The few places where SQLite and PostgreSQL spell SQL differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a `$n` placeholder (both backends accept `$n`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlParam {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

/// A SQL fragment and the parameters its placeholders refer to, numbered from 1 across
/// the whole statement.
#[derive(Debug, Default)]
pub(crate) struct SqlBuilder {
    pub(crate) sql: String,
    pub(crate) params: Vec<SqlParam>,
}

impl SqlBuilder {
    /// Appends raw SQL text (never client input).
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `param`.
    pub(crate) fn bind(&mut self, param: SqlParam) -> &mut Self {
        self.params.push(param);
        let placeholder = format!("${}", self.params.len());
        self.sql.push_str(&placeholder);
        self
    }

    /// Appends `$a, $b, …` for a list of text values.
    pub(crate) fn bind_list<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) -> &mut Self {
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.push(", ");
            }
            self.bind(SqlParam::Text(value.to_owned()));
        }
        self
    }
}

/// Binds every parameter of a builder onto a sqlx query, for either backend.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                $crate::sql::SqlParam::Text(value) => query.bind(value.clone()),
                $crate::sql::SqlParam::Int(value) => query.bind(*value),
                $crate::sql::SqlParam::Float(value) => query.bind(*value),
                $crate::sql::SqlParam::Bool(value) => query.bind(*value),
                $crate::sql::SqlParam::Null => query.bind(Option::<String>::None),
            };
        }
        query
    }};
}
pub(crate) use bind_params;
