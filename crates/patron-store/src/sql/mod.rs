//! What the SQLite and PostgreSQL stores share: SQL text, row types, the translation of
//! customer filters into SQL, and (in `stores/`, compiled into each backend's module) the
//! store implementations themselves, since the two differ only in their connection types.

pub(crate) mod filter;
pub(crate) mod rows;
pub(crate) mod segment;

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

    /// Undoes everything the transaction did, then releases the writer lock.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
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

impl Dialect {
    /// The function that gives the 1-based position of a substring (0 when absent), with
    /// its opening parenthesis: `instr(` or `strpos(`.
    pub(crate) fn substring_position(self) -> &'static str {
        match self {
            Dialect::Sqlite => "instr(",
            Dialect::Postgres => "strpos(",
        }
    }

    /// Ends a subquery so that PostgreSQL runs it as written, row by row, instead of
    /// turning it into a hashed set of every match first (`OFFSET 0`; nothing on SQLite).
    pub(crate) fn subquery_fence(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " OFFSET 0",
        }
    }

    /// Opens `c.id` membership in an id subquery: `c.id = ANY(ARRAY(` on PostgreSQL, whose
    /// planner then runs the indexed lookup first, `c.id IN (` on SQLite. Close it with
    /// [`Dialect::close_id_subquery`].
    pub(crate) fn open_id_subquery(self) -> &'static str {
        match self {
            Dialect::Postgres => "c.id = ANY(ARRAY(",
            Dialect::Sqlite => "c.id IN (",
        }
    }

    /// Closes what [`Dialect::open_id_subquery`] opened.
    pub(crate) fn close_id_subquery(self) -> &'static str {
        match self {
            Dialect::Postgres => "))",
            Dialect::Sqlite => ")",
        }
    }
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
