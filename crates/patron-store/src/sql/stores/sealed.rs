//! Finding and rewriting sealed values for a key rotation.

use super::prelude::*;

use crate::sealed::{SealedKind, SealedRecord, SealedStore};

/// How a kind is read (selecting key, context columns, value columns) and rewritten.
struct Shape {
    select: &'static str,
    /// The same, for records holding a `v1:` value.
    legacy_select: &'static str,
    context: usize,
    update: &'static str,
}

fn shape(kind: SealedKind) -> Shape {
    match kind {
        SealedKind::ProviderSecrets => Shape {
            select: "SELECT application_id, application_id, secrets FROM auth_configs WHERE \
                     secrets IS NOT NULL AND application_id > $1 ORDER BY application_id LIMIT $2",
            legacy_select: "SELECT application_id, application_id, secrets FROM auth_configs \
                            WHERE secrets LIKE 'v1:%' AND application_id > $1 ORDER BY \
                            application_id LIMIT $2",
            context: 1,
            update: "UPDATE auth_configs SET secrets = $1 WHERE application_id = $2 AND secrets \
                     = $3",
        },
        SealedKind::AttributeValues => Shape {
            select: "SELECT id, definition_id, customer_id, value FROM attribute_values WHERE \
                     (value LIKE 'v1:%' OR value LIKE 'v2:%') AND id > $1 ORDER BY id LIMIT $2",
            legacy_select: "SELECT id, definition_id, customer_id, value FROM attribute_values \
                            WHERE value LIKE 'v1:%' AND id > $1 ORDER BY id LIMIT $2",
            context: 2,
            update: "UPDATE attribute_values SET value = $1 WHERE id = $2 AND value = $3",
        },
        SealedKind::OutboxMessages => Shape {
            select: "SELECT id, application_id, recipient, subject, body, data FROM outbox \
                     WHERE (body LIKE 'v1:%' OR body LIKE 'v2:%') AND id > $1 ORDER BY id LIMIT \
                     $2",
            legacy_select: "SELECT id, application_id, recipient, subject, body, data FROM \
                            outbox WHERE (body LIKE 'v1:%' OR subject LIKE 'v1:%' OR data LIKE \
                            '%\"v1:%') AND id > $1 ORDER BY id LIMIT $2",
            context: 2,
            update: "UPDATE outbox SET subject = $1, body = $2, data = $3 WHERE id = $4 AND \
                     subject = $5 AND body = $6 AND data = $7",
        },
    }
}

#[async_trait]
impl SealedStore for Store {
    async fn sealed_records(
        &self,
        kind: SealedKind,
        after: &str,
        limit: usize,
        legacy_only: bool,
    ) -> Result<Vec<SealedRecord>, StoreError> {
        let shape = shape(kind);
        let select = if legacy_only {
            shape.legacy_select
        } else {
            shape.select
        };
        let rows = sqlx::query(select)
            .bind(after)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                let columns: Vec<String> = (0..row.len())
                    .map(|index| row.try_get::<String, _>(index))
                    .collect::<Result<_, _>>()?;
                let (id, rest) = columns
                    .split_first()
                    .ok_or_else(|| StoreError::corrupt("sealed values", "", "no key column"))?;
                let (context, values) = rest.split_at(shape.context);
                Ok(SealedRecord {
                    id: id.clone(),
                    context: context.to_vec(),
                    values: values.to_vec(),
                })
            })
            .collect()
    }

    async fn replace_sealed(
        &self,
        kind: SealedKind,
        record: &SealedRecord,
        values: &[String],
    ) -> Result<bool, StoreError> {
        if values.len() != record.values.len() {
            return Err(StoreError::corrupt(
                "sealed values",
                &record.id,
                "a rewrite must give every value",
            ));
        }
        let mut query = sqlx::query(shape(kind).update);
        for value in values {
            query = query.bind(value);
        }
        query = query.bind(&record.id);
        for value in &record.values {
            query = query.bind(value);
        }
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }
}
