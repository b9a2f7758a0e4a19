//! Attribute definitions and values, with the per-element index group conditions read.

use super::prelude::*;

use crate::segments::{
    AttributeDefinition, AttributeValue, CustomerValues, DefinitionFilter, ValueWrite,
};
use crate::sql::segment::{DefinitionRow, ValueRow, DEFINITION_COLUMNS, VALUE_COLUMNS};
use crate::AttributeStore;
use patron_domain::attribute::IndexEntry;

/// Customers per transaction of a bulk write.
const CUSTOMERS_PER_BATCH: usize = 500;
/// Rows per multi-row statement, well under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 400;

fn slug_error(error: sqlx::Error, slug: &str) -> StoreError {
    match unique_violation(&error) {
        Some(UniqueIndex::Slug) => StoreError::Conflict(Conflict::Slug(slug.to_owned())),
        _ => StoreError::Database(error),
    }
}

fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

impl Store {
    /// Replaces the index entries of (definition, customer) pairs: `writes` lists,
    /// per customer, the values written.
    async fn reindex(
        conn: &mut Connection,
        writes: &[(&ObjectId, &ValueWrite)],
    ) -> Result<(), sqlx::Error> {
        let mut by_definition: std::collections::BTreeMap<&str, Vec<&str>> =
            std::collections::BTreeMap::new();
        for (customer_id, value) in writes {
            by_definition
                .entry(value.definition_id.as_str())
                .or_default()
                .push(customer_id.as_str());
        }
        for (definition_id, customers) in by_definition {
            for chunk in customers.chunks(ROWS_PER_STATEMENT) {
                let mut delete = SqlBuilder::default();
                delete
                    .push("DELETE FROM attribute_index WHERE definition_id = ")
                    .bind(SqlParam::Text(definition_id.to_owned()));
                delete
                    .push(" AND customer_id IN (")
                    .bind_list(chunk.iter().copied())
                    .push(")");
                sqlx::query_with(&delete.sql, arguments(&delete.params)?)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        let entries: Vec<(&str, &str, &IndexEntry)> = writes
            .iter()
            .flat_map(|(customer_id, value)| {
                value
                    .index
                    .iter()
                    .map(move |entry| (value.definition_id.as_str(), customer_id.as_str(), entry))
            })
            .collect();
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let mut insert = SqlBuilder::default();
            insert
                .push("INSERT INTO attribute_index (definition_id, customer_id, num, txt) VALUES ");
            for (index, (definition_id, customer_id, entry)) in chunk.iter().enumerate() {
                insert.push(if index == 0 { "(" } else { ", (" });
                insert
                    .bind(SqlParam::Text((*definition_id).to_owned()))
                    .push(", ");
                insert
                    .bind(SqlParam::Text((*customer_id).to_owned()))
                    .push(", ");
                match entry {
                    IndexEntry::Number(number) => {
                        insert.bind(SqlParam::Float(*number)).push(", NULL)")
                    }
                    IndexEntry::Text(text) => insert
                        .push("NULL, ")
                        .bind(SqlParam::Text(text.clone()))
                        .push(")"),
                };
            }
            sqlx::query_with(&insert.sql, arguments(&insert.params)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Inserts or updates values with one multi-row statement per chunk.
    pub(super) async fn write_values(
        conn: &mut Connection,
        application_id: &ObjectId,
        writes: &[(&ObjectId, &ValueWrite)],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let at = to_millis(now);
        // The last write of each (customer, definition) wins: a statement may not
        // upsert one row twice, and the index must follow the value kept.
        let mut last: std::collections::HashMap<(&str, &str), usize> =
            std::collections::HashMap::new();
        for (position, (customer_id, value)) in writes.iter().enumerate() {
            last.insert(
                (customer_id.as_str(), value.definition_id.as_str()),
                position,
            );
        }
        let kept: Vec<(&ObjectId, &ValueWrite)> = writes
            .iter()
            .enumerate()
            .filter(|(position, (customer_id, value))| {
                last.get(&(customer_id.as_str(), value.definition_id.as_str())) == Some(position)
            })
            .map(|(_, write)| *write)
            .collect();
        let writes = kept.as_slice();
        for chunk in writes.chunks(ROWS_PER_STATEMENT) {
            let mut insert = SqlBuilder::default();
            insert.push(
                "INSERT INTO attribute_values (id, application_id, definition_id, customer_id, \
                 value, customer_overridden, updated_by, created_at, updated_at) VALUES ",
            );
            for (index, (customer_id, value)) in chunk.iter().enumerate() {
                insert.push(if index == 0 { "(" } else { ", (" });
                insert
                    .bind(SqlParam::Text(ObjectId::generate(now).to_string()))
                    .push(", ");
                insert
                    .bind(SqlParam::Text(application_id.to_string()))
                    .push(", ");
                insert
                    .bind(SqlParam::Text(value.definition_id.to_string()))
                    .push(", ");
                insert
                    .bind(SqlParam::Text(customer_id.to_string()))
                    .push(", ");
                insert.bind(SqlParam::Text(value.stored.clone())).push(", ");
                insert
                    .bind(SqlParam::Bool(value.customer_overridden))
                    .push(", ");
                insert.bind(SqlParam::Text(actor.id.clone())).push(", ");
                insert
                    .bind(SqlParam::Int(at))
                    .push(", ")
                    .bind(SqlParam::Int(at))
                    .push(")");
            }
            insert.push(
                " ON CONFLICT (definition_id, customer_id) DO UPDATE SET value = excluded.value, \
                 customer_overridden = excluded.customer_overridden, updated_by = \
                 excluded.updated_by, updated_at = excluded.updated_at",
            );
            sqlx::query_with(&insert.sql, arguments(&insert.params)?)
                .execute(&mut *conn)
                .await?;
        }
        Self::reindex(&mut *conn, writes).await?;
        let customers: BTreeSet<&str> = writes.iter().map(|(id, _)| id.as_str()).collect();
        let customers: Vec<&str> = customers.into_iter().collect();
        Self::audit_many(
            conn,
            application_id,
            &customers,
            "attributes_change",
            actor,
            now,
        )
        .await
    }

    /// The application's definitions whose `column` is one of `values`.
    async fn definitions_where<'a>(
        &self,
        application_id: &ObjectId,
        column: &str,
        values: impl ExactSizeIterator<Item = &'a str>,
    ) -> Result<Vec<AttributeDefinition>, StoreError> {
        if values.len() == 0 {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::default();
        sql.push(&format!(
            "SELECT {DEFINITION_COLUMNS} FROM attribute_definitions d WHERE d.application_id = "
        ));
        sql.bind(SqlParam::Text(application_id.to_string()));
        sql.push(&format!(" AND d.{column} IN ("))
            .bind_list(values)
            .push(")");
        let rows: Vec<DefinitionRow> =
            sqlx::query_as_with::<_, DefinitionRow, _>(&sql.sql, arguments(&sql.params)?)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(AttributeDefinition::try_from)
            .collect()
    }

    async fn value_where(
        conn: &mut Connection,
        condition: &str,
        params: &[&str],
    ) -> Result<Option<AttributeValue>, StoreError> {
        let sql = format!(
            "SELECT {VALUE_COLUMNS} FROM attribute_values v JOIN attribute_definitions d ON d.id = \
             v.definition_id WHERE {condition}"
        );
        let mut query = sqlx::query_as::<_, ValueRow>(&sql);
        for param in params {
            query = query.bind(*param);
        }
        Ok(query
            .fetch_optional(&mut *conn)
            .await?
            .map(AttributeValue::from))
    }
}

#[async_trait]
impl AttributeStore for Store {
    async fn create_definition(&self, definition: &AttributeDefinition) -> Result<(), StoreError> {
        let spec = &definition.spec;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO attribute_definitions (id, application_id, slug, name, description, type, \
             multi_value, customer_editable, encrypted, pinned, pin_order, default_value, \
             validations, extras, is_locked, created_by, updated_by, created_at, updated_at, \
             version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20)",
        )
        .bind(definition.id.as_str())
        .bind(definition.application_id.as_str())
        .bind(&spec.slug)
        .bind(&spec.name)
        .bind(&spec.description)
        .bind(spec.attribute_type.as_str())
        .bind(spec.multi_value)
        .bind(spec.customer_editable)
        .bind(spec.encrypted)
        .bind(spec.pinned)
        .bind(spec.pin_order)
        .bind(spec.default_value.as_ref().map(json_text))
        .bind(json_text(&serde_json::Value::Array(
            spec.validations.clone(),
        )))
        .bind(json_text(&serde_json::Value::Object(spec.extras.clone())))
        .bind(definition.is_locked)
        .bind(&definition.created_by)
        .bind(&definition.updated_by)
        .bind(to_millis(definition.created_at))
        .bind(to_millis(definition.updated_at))
        .bind(definition.version)
        .execute(&mut *tx)
        .await
        .map_err(|error| slug_error(error, &spec.slug))?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<AttributeDefinition>, StoreError> {
        let sql = format!(
            "SELECT {DEFINITION_COLUMNS} FROM attribute_definitions d WHERE d.application_id = $1 \
             AND d.id = $2"
        );
        let row: Option<DefinitionRow> = sqlx::query_as(&sql)
            .bind(application_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(AttributeDefinition::try_from).transpose()
    }

    async fn find_definitions_by_slug(
        &self,
        application_id: &ObjectId,
        slugs: &[String],
    ) -> Result<Vec<AttributeDefinition>, StoreError> {
        self.definitions_where(application_id, "slug", slugs.iter().map(String::as_str))
            .await
    }

    async fn find_definitions(
        &self,
        application_id: &ObjectId,
        ids: &[ObjectId],
    ) -> Result<Vec<AttributeDefinition>, StoreError> {
        self.definitions_where(application_id, "id", ids.iter().map(ObjectId::as_str))
            .await
    }

    async fn list_definitions(
        &self,
        application_id: &ObjectId,
        filter: &DefinitionFilter,
        page: PageRequest,
    ) -> Result<(Vec<AttributeDefinition>, u64), StoreError> {
        let mut condition = SqlBuilder::default();
        condition
            .push(" WHERE d.application_id = ")
            .bind(SqlParam::Text(application_id.to_string()));
        if !filter.excluding_ids.is_empty() {
            condition
                .push(" AND d.id NOT IN (")
                .bind_list(filter.excluding_ids.iter().map(ObjectId::as_str))
                .push(")");
        }
        if let Some(slug) = &filter.slug {
            condition
                .push(" AND d.slug = ")
                .bind(SqlParam::Text(slug.clone()));
        }
        if let Some(attribute_type) = &filter.attribute_type {
            condition
                .push(" AND d.type = ")
                .bind(SqlParam::Text(attribute_type.clone()));
        }
        for (column, flag) in [
            ("customer_editable", filter.customer_editable),
            ("encrypted", filter.encrypted),
            ("pinned", filter.pinned),
            ("is_locked", filter.is_locked),
        ] {
            if let Some(flag) = flag {
                condition
                    .push(&format!(" AND d.{column} = "))
                    .bind(SqlParam::Bool(flag));
            }
        }
        if let Some(order) = filter.pin_order {
            condition
                .push(" AND d.pin_order = ")
                .bind(SqlParam::Int(order));
        }
        if let Some(name) = &filter.name {
            condition
                .push(" AND ")
                .push(Self::DIALECT.substring_position())
                .push("lower(d.name), lower(");
            condition.bind(SqlParam::Text(name.clone())).push(")) > 0");
        }
        let mut conn = self.pool.acquire().await?;
        let (rows, total): (Vec<DefinitionRow>, u64) = fetch_page(
            &mut conn,
            DEFINITION_COLUMNS,
            "attribute_definitions d",
            condition,
            "d.id DESC",
            page,
        )
        .await?;
        let definitions = rows
            .into_iter()
            .map(AttributeDefinition::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((definitions, total))
    }

    async fn update_definition(&self, definition: &AttributeDefinition) -> Result<(), StoreError> {
        let spec = &definition.spec;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE attribute_definitions SET slug = $1, name = $2, description = $3, \
             customer_editable = $4, pinned = $5, pin_order = $6, default_value = $7, validations \
             = $8, extras = $9, is_locked = $10, updated_by = $11, updated_at = $12, version = $13 \
             WHERE id = $14 AND application_id = $15 AND version = $16 AND is_locked = FALSE",
        )
        .bind(&spec.slug)
        .bind(&spec.name)
        .bind(&spec.description)
        .bind(spec.customer_editable)
        .bind(spec.pinned)
        .bind(spec.pin_order)
        .bind(spec.default_value.as_ref().map(json_text))
        .bind(json_text(&serde_json::Value::Array(
            spec.validations.clone(),
        )))
        .bind(json_text(&serde_json::Value::Object(spec.extras.clone())))
        .bind(definition.is_locked)
        .bind(&definition.updated_by)
        .bind(to_millis(definition.updated_at))
        .bind(definition.version)
        .bind(definition.id.as_str())
        .bind(definition.application_id.as_str())
        .bind(definition.version - 1)
        .execute(&mut *tx)
        .await
        .map_err(|error| slug_error(error, &spec.slug))?;
        if updated.rows_affected() == 0 {
            let current: Option<(bool,)> = sqlx::query_as(
                "SELECT is_locked FROM attribute_definitions WHERE id = $1 AND application_id = $2",
            )
            .bind(definition.id.as_str())
            .bind(definition.application_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            return Err(match current {
                None => StoreError::not_found(Entity::AttributeDefinition, &definition.id),
                Some((true,)) => StoreError::Locked {
                    entity: Entity::AttributeDefinition,
                    id: definition.id.to_string(),
                },
                Some((false,)) => StoreError::Conflict(Conflict::Version),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_definition(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT is_locked FROM attribute_definitions WHERE id = $1 AND application_id = $2{}",
            Self::LOCK_ROW
        );
        let current: Option<(bool,)> = sqlx::query_as(&sql)
            .bind(id.as_str())
            .bind(application_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        match current {
            None => return Err(StoreError::not_found(Entity::AttributeDefinition, id)),
            Some((true,)) => {
                return Err(StoreError::Locked {
                    entity: Entity::AttributeDefinition,
                    id: id.to_string(),
                })
            }
            Some((false,)) => {}
        }
        let users: Vec<(String,)> = sqlx::query_as(
            "SELECT g.name FROM group_condition_refs r JOIN customer_groups g ON g.id = r.group_id \
             WHERE r.definition_id = $1 ORDER BY g.uid",
        )
        .bind(id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        if !users.is_empty() {
            return Err(StoreError::InUse {
                entity: Entity::AttributeDefinition,
                id: id.to_string(),
                users: users.into_iter().map(|(name,)| name).collect(),
            });
        }
        for statement in [
            "DELETE FROM attribute_index WHERE definition_id = $1",
            "DELETE FROM attribute_values WHERE definition_id = $1",
            "DELETE FROM attribute_definitions WHERE id = $1",
        ] {
            sqlx::query(statement)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_value(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        value: &ValueWrite,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(AttributeValue, bool), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = Self::customer_row(&mut tx, application_id, customer_id, true).await?;
        if row.archived {
            return Err(StoreError::ArchiveState(true));
        }
        let definition: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM attribute_definitions WHERE id = $1 AND application_id = $2",
        )
        .bind(value.definition_id.as_str())
        .bind(application_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if definition.is_none() {
            return Err(StoreError::not_found(
                Entity::AttributeDefinition,
                &value.definition_id,
            ));
        }
        let existed: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM attribute_values WHERE definition_id = $1 AND customer_id = $2",
        )
        .bind(value.definition_id.as_str())
        .bind(customer_id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        Self::write_values(&mut tx, application_id, &[(customer_id, value)], actor, now).await?;
        let stored = Self::value_where(
            &mut tx,
            "v.definition_id = $1 AND v.customer_id = $2",
            &[value.definition_id.as_str(), customer_id.as_str()],
        )
        .await?
        .ok_or_else(|| StoreError::not_found(Entity::AttributeValue, &value.definition_id))?;
        tx.commit().await?;
        Ok((stored, existed.is_none()))
    }

    async fn bulk_upsert_values(
        &self,
        application_id: &ObjectId,
        customers: &[CustomerValues],
        actor: &Actor,
        now: DateTime<Utc>,
        checkpoint: Option<&crate::jobs::Checkpoint>,
    ) -> Result<Vec<ObjectId>, StoreError> {
        let mut refused = Vec::new();
        if checkpoint.is_some() && customers.len() > CUSTOMERS_PER_BATCH {
            return Err(StoreError::Configuration(format!(
                "a checkpointed batch holds at most {CUSTOMERS_PER_BATCH} customers"
            )));
        }
        if customers.is_empty() {
            if let Some(checkpoint) = checkpoint {
                let mut tx = self.begin_write().await?;
                Self::advance_job(&mut tx, checkpoint, &[]).await?;
                tx.commit().await?;
            }
            return Ok(refused);
        }
        for batch in customers.chunks(CUSTOMERS_PER_BATCH) {
            let mut tx = self.begin_write().await?;
            let mut live = SqlBuilder::default();
            live.push("SELECT id FROM customers WHERE application_id = ")
                .bind(SqlParam::Text(application_id.to_string()));
            live.push(" AND archived = FALSE AND id IN (")
                .bind_list(batch.iter().map(|c| c.customer_id.as_str()))
                .push(")");
            live.push(Self::LOCK_ROW);
            let found: Vec<(String,)> =
                sqlx::query_as_with::<_, (String,), _>(&live.sql, arguments(&live.params)?)
                    .fetch_all(&mut *tx)
                    .await?;
            let found: BTreeSet<String> = found.into_iter().map(|(id,)| id).collect();
            let mut writes = Vec::new();
            for customer in batch {
                if found.contains(customer.customer_id.as_str()) {
                    writes.extend(
                        customer
                            .values
                            .iter()
                            .map(|value| (&customer.customer_id, value)),
                    );
                } else {
                    refused.push(customer.customer_id.clone());
                }
            }
            Self::write_values(&mut tx, application_id, &writes, actor, now).await?;
            let index_rows: usize = writes.iter().map(|(_, value)| value.index.len()).sum();
            if let Some(checkpoint) = checkpoint {
                let batch_refused: Vec<ObjectId> = batch
                    .iter()
                    .filter(|c| !found.contains(c.customer_id.as_str()))
                    .map(|c| c.customer_id.clone())
                    .collect();
                Self::advance_job(&mut tx, checkpoint, &batch_refused).await?;
            }
            tx.commit().await?;
            self.note_index_rows(index_rows, now).await;
        }
        Ok(refused)
    }

    async fn find_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
    ) -> Result<Option<AttributeValue>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::value_where(
            &mut conn,
            "v.application_id = $1 AND v.definition_id = $2 AND v.customer_id = $3",
            &[
                application_id.as_str(),
                definition_id.as_str(),
                customer_id.as_str(),
            ],
        )
        .await
    }

    async fn find_value_by_id(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<AttributeValue>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::value_where(
            &mut conn,
            "v.application_id = $1 AND v.id = $2",
            &[application_id.as_str(), id.as_str()],
        )
        .await
    }

    async fn delete_value(
        &self,
        application_id: &ObjectId,
        definition_id: &ObjectId,
        customer_id: &ObjectId,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(
            "DELETE FROM attribute_values WHERE application_id = $1 AND definition_id = $2 AND \
             customer_id = $3",
        )
        .bind(application_id.as_str())
        .bind(definition_id.as_str())
        .bind(customer_id.as_str())
        .execute(&mut *tx)
        .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::AttributeValue, definition_id));
        }
        sqlx::query("DELETE FROM attribute_index WHERE definition_id = $1 AND customer_id = $2")
            .bind(definition_id.as_str())
            .bind(customer_id.as_str())
            .execute(&mut *tx)
            .await?;
        Self::audit(
            &mut tx,
            application_id,
            customer_id.as_str(),
            "attributes_change",
            actor,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn values_of(
        &self,
        application_id: &ObjectId,
        customer_ids: &[ObjectId],
        definition_ids: &[ObjectId],
    ) -> Result<Vec<AttributeValue>, StoreError> {
        if customer_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::default();
        sql.push(&format!(
            "SELECT {VALUE_COLUMNS} FROM attribute_values v JOIN attribute_definitions d ON d.id = \
             v.definition_id WHERE v.application_id = "
        ));
        sql.bind(SqlParam::Text(application_id.to_string()));
        sql.push(" AND v.customer_id IN (")
            .bind_list(customer_ids.iter().map(ObjectId::as_str))
            .push(")");
        if !definition_ids.is_empty() {
            sql.push(" AND v.definition_id IN (")
                .bind_list(definition_ids.iter().map(ObjectId::as_str))
                .push(")");
        }
        sql.push(" ORDER BY v.customer_id, v.id");
        let rows: Vec<ValueRow> =
            sqlx::query_as_with::<_, ValueRow, _>(&sql.sql, arguments(&sql.params)?)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(AttributeValue::from).collect())
    }

    async fn delete_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        definition_ids: &[ObjectId],
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        if definition_ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let mut deleted = 0;
        for chunk in definition_ids.chunks(ROWS_PER_STATEMENT) {
            for table in ["attribute_values", "attribute_index"] {
                let mut sql = SqlBuilder::default();
                sql.push(&format!("DELETE FROM {table} WHERE customer_id = "))
                    .bind(SqlParam::Text(customer_id.to_string()));
                if table == "attribute_values" {
                    sql.push(" AND application_id = ")
                        .bind(SqlParam::Text(application_id.to_string()));
                }
                sql.push(" AND definition_id IN (")
                    .bind_list(chunk.iter().map(ObjectId::as_str))
                    .push(")");
                let done = sqlx::query_with(&sql.sql, arguments(&sql.params)?)
                    .execute(&mut *tx)
                    .await?;
                if table == "attribute_values" {
                    deleted += done.rows_affected();
                }
            }
        }
        if deleted > 0 {
            Self::audit(
                &mut tx,
                application_id,
                customer_id.as_str(),
                "attributes_change",
                actor,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn list_values(
        &self,
        application_id: &ObjectId,
        customer_id: &ObjectId,
        page: PageRequest,
    ) -> Result<(Vec<AttributeValue>, u64), StoreError> {
        let mut condition = SqlBuilder::default();
        condition
            .push(" WHERE v.customer_id = ")
            .bind(SqlParam::Text(customer_id.to_string()))
            .push(" AND v.application_id = ")
            .bind(SqlParam::Text(application_id.to_string()));
        let mut conn = self.pool.acquire().await?;
        let (rows, total): (Vec<ValueRow>, u64) = fetch_page(
            &mut conn,
            VALUE_COLUMNS,
            "attribute_values v JOIN attribute_definitions d ON d.id = v.definition_id",
            condition,
            "v.id DESC",
            page,
        )
        .await?;
        Ok((rows.into_iter().map(AttributeValue::from).collect(), total))
    }
}
