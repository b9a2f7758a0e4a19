//! Customer groups: uids, fields, listed members, white- and blacklists, and membership
//! queries compiled from a group's rule.

use super::prelude::*;

use crate::segments::{Group, GroupFilter, GroupStatus, MemberChanges, Membership};
use crate::sql::segment::{
    push_member_count, push_member_ids, push_membership, GroupRow, GROUP_COLUMNS,
};
use crate::{GroupStore, NewJob};
use patron_domain::csv_list::Identifier;

/// Ids per statement, well under both backends' parameter limits.
const IDS_PER_STATEMENT: usize = 500;

impl Store {
    /// The live customer owning each of `values` in the `key` column of the rows that
    /// `columns_from` (`<key>, <customer id> FROM <table>`) selects, in batches.
    async fn live_owners(
        conn: &mut Connection,
        application_id: &ObjectId,
        columns_from: &str,
        key: &str,
        values: &[&str],
    ) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        let mut owners = std::collections::BTreeMap::new();
        for chunk in values.chunks(IDS_PER_STATEMENT) {
            let mut sql = SqlBuilder::default();
            sql.push(&format!("SELECT {columns_from} WHERE application_id = "))
                .bind(SqlParam::Text(application_id.to_string()));
            sql.push(&format!(" AND archived = FALSE AND {key} IN ("))
                .bind_list(chunk.iter().copied())
                .push(")");
            let rows: Vec<(String, String)> =
                sqlx::query_as_with::<_, (String, String), _>(&sql.sql, arguments(&sql.params)?)
                    .fetch_all(&mut *conn)
                    .await?;
            owners.extend(rows);
        }
        Ok(owners)
    }

    /// Fails with `UnknownCustomers` unless every id of `changes` is a customer of
    /// the application.
    async fn check_customers(
        conn: &mut Connection,
        application_id: &ObjectId,
        changes: &MemberChanges,
    ) -> Result<(), StoreError> {
        let ids: BTreeSet<&str> = changes
            .add
            .iter()
            .chain(&changes.remove)
            .chain(&changes.whitelist)
            .chain(&changes.blacklist)
            .map(ObjectId::as_str)
            .collect();
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut found = BTreeSet::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let mut sql = SqlBuilder::default();
            sql.push("SELECT id FROM customers WHERE application_id = ")
                .bind(SqlParam::Text(application_id.to_string()));
            sql.push(" AND id IN (")
                .bind_list(chunk.iter().copied())
                .push(")");
            let rows: Vec<(String,)> =
                sqlx::query_as_with::<_, (String,), _>(&sql.sql, arguments(&sql.params)?)
                    .fetch_all(&mut *conn)
                    .await?;
            found.extend(rows.into_iter().map(|(id,)| id));
        }
        let unknown: Vec<String> = ids
            .iter()
            .filter(|id| !found.contains(**id))
            .map(|id| (*id).to_owned())
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(StoreError::UnknownCustomers(unknown))
        }
    }

    /// Applies member changes to a group (ids already checked).
    async fn apply_changes(
        conn: &mut Connection,
        group_id: &ObjectId,
        changes: &MemberChanges,
    ) -> Result<(), sqlx::Error> {
        let group = || SqlParam::Text(group_id.to_string());
        let blacklisted: BTreeSet<&str> = changes.blacklist.iter().map(ObjectId::as_str).collect();
        for chunk in changes.remove.chunks(IDS_PER_STATEMENT) {
            for table in [
                "DELETE FROM group_members WHERE group_id = ",
                "DELETE FROM group_overrides WHERE listed = 'white' AND group_id = ",
            ] {
                let mut sql = SqlBuilder::default();
                sql.push(table)
                    .bind(group())
                    .push(" AND customer_id IN (")
                    .bind_list(chunk.iter().map(ObjectId::as_str))
                    .push(")");
                sqlx::query_with(&sql.sql, arguments(&sql.params)?)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        for chunk in changes.add.chunks(IDS_PER_STATEMENT) {
            let mut sql = SqlBuilder::default();
            sql.push("INSERT INTO group_members (group_id, customer_id) VALUES ");
            for (index, id) in chunk.iter().enumerate() {
                sql.push(if index == 0 { "(" } else { ", (" })
                    .bind(group())
                    .push(", ")
                    .bind(SqlParam::Text(id.to_string()))
                    .push(")");
            }
            sql.push(" ON CONFLICT (group_id, customer_id) DO NOTHING");
            sqlx::query_with(&sql.sql, arguments(&sql.params)?)
                .execute(&mut *conn)
                .await?;
        }
        // One entry per customer (a statement may not upsert a row twice); the
        // blacklist wins over the whitelist.
        let mut overrides: std::collections::BTreeMap<&str, &str> =
            std::collections::BTreeMap::new();
        for id in &changes.whitelist {
            overrides.insert(id.as_str(), "white");
        }
        for id in blacklisted {
            overrides.insert(id, "black");
        }
        let overrides: Vec<(&str, &str)> = overrides.into_iter().collect();
        for chunk in overrides.chunks(IDS_PER_STATEMENT) {
            let mut sql = SqlBuilder::default();
            sql.push("INSERT INTO group_overrides (group_id, customer_id, listed) VALUES ");
            for (index, (id, listed)) in chunk.iter().enumerate() {
                sql.push(if index == 0 { "(" } else { ", (" })
                    .bind(group())
                    .push(", ")
                    .bind(SqlParam::Text((*id).to_owned()));
                sql.push(", ")
                    .bind(SqlParam::Text((*listed).to_owned()))
                    .push(")");
            }
            sql.push(" ON CONFLICT (group_id, customer_id) DO UPDATE SET listed = excluded.listed");
            sqlx::query_with(&sql.sql, arguments(&sql.params)?)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Replaces the group's condition references, locking the definitions so that
    /// none is deleted meanwhile; fails if one does not exist.
    async fn write_condition_refs(conn: &mut Connection, group: &Group) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM group_condition_refs WHERE group_id = $1")
            .bind(group.id.as_str())
            .execute(&mut *conn)
            .await?;
        let ids = group.condition_definitions();
        if ids.is_empty() {
            return Ok(());
        }
        let mut sql = SqlBuilder::default();
        sql.push("SELECT id FROM attribute_definitions WHERE application_id = ")
            .bind(SqlParam::Text(group.application_id.to_string()));
        sql.push(" AND id IN (")
            .bind_list(ids.iter().map(String::as_str))
            .push(")")
            .push(Self::LOCK_ROW);
        let found: Vec<(String,)> =
            sqlx::query_as_with::<_, (String,), _>(&sql.sql, arguments(&sql.params)?)
                .fetch_all(&mut *conn)
                .await?;
        if let Some(missing) = ids.iter().find(|id| !found.iter().any(|(f,)| f == *id)) {
            return Err(StoreError::Rule(patron_domain::DomainError::invalid(
                "conditions",
                format!("attribute definition {missing} does not exist"),
            )));
        }
        let mut insert = SqlBuilder::default();
        insert.push("INSERT INTO group_condition_refs (group_id, definition_id) VALUES ");
        for (index, id) in ids.iter().enumerate() {
            insert
                .push(if index == 0 { "(" } else { ", (" })
                .bind(SqlParam::Text(group.id.to_string()));
            insert.push(", ").bind(SqlParam::Text(id.clone())).push(")");
        }
        sqlx::query_with(&insert.sql, arguments(&insert.params)?)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn group_row(
        conn: &mut Connection,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Group>, StoreError> {
        let sql = format!(
            "SELECT {GROUP_COLUMNS} FROM customer_groups g WHERE g.application_id = $1 AND g.id = \
             $2"
        );
        let row: Option<GroupRow> = sqlx::query_as(&sql)
            .bind(application_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let mut groups = row
            .into_iter()
            .map(Group::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Self::with_blacklists(conn, &mut groups).await?;
        Ok(groups.pop())
    }

    /// Fills in the (first) blacklisted customers of each group.
    async fn with_blacklists(
        conn: &mut Connection,
        groups: &mut [Group],
    ) -> Result<(), sqlx::Error> {
        for group in groups.iter_mut() {
            let ids: Vec<(String,)> = sqlx::query_as(
                "SELECT customer_id FROM group_overrides WHERE group_id = $1 AND listed = 'black' \
                 ORDER BY customer_id LIMIT $2",
            )
            .bind(group.id.as_str())
            .bind(i64::try_from(Group::SHOWN_BLACKLIST).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?;
            group.blacklisted = ids
                .into_iter()
                .map(|(id,)| ObjectId::from_trusted(id))
                .collect();
        }
        Ok(())
    }
}

#[async_trait]
impl GroupStore for Store {
    async fn create_group(
        &self,
        group: &Group,
        changes: &MemberChanges,
        members_job: Option<&NewJob>,
    ) -> Result<Group, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::check_customers(&mut tx, &group.application_id, changes).await?;
        let (uid,): (i64,) = sqlx::query_as(
            "INSERT INTO group_sequences (application_id, last_uid) VALUES ($1, 1) ON CONFLICT \
             (application_id) DO UPDATE SET last_uid = group_sequences.last_uid + 1 RETURNING \
             last_uid",
        )
        .bind(group.application_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO customer_groups (id, application_id, uid, name, description, type, \
             status, is_active, conditions, file_url, error_count, error_file_url, tags, \
             created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16)",
        )
        .bind(group.id.as_str())
        .bind(group.application_id.as_str())
        .bind(uid)
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.kind.as_str())
        .bind(group.status.as_str())
        .bind(group.is_active)
        .bind(serde_json::json!(group.conditions).to_string())
        .bind(&group.file_url)
        .bind(group.error_count)
        .bind(&group.error_file_url)
        .bind(serde_json::json!(group.tags).to_string())
        .bind(to_millis(group.created_at))
        .bind(to_millis(group.updated_at))
        .bind(group.version)
        .execute(&mut *tx)
        .await?;
        Self::write_condition_refs(&mut tx, group).await?;
        Self::apply_changes(&mut tx, &group.id, changes).await?;
        if let Some(new) = members_job {
            Self::insert_job(&mut tx, &new.job, &new.failures).await?;
        }
        let created = Self::group_row(&mut tx, &group.application_id, &group.id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Group, &group.id))?;
        tx.commit().await?;
        Ok(created)
    }

    async fn find_group(
        &self,
        application_id: &ObjectId,
        id: &ObjectId,
    ) -> Result<Option<Group>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(Self::group_row(&mut conn, application_id, id).await?)
    }

    async fn list_groups(
        &self,
        application_id: &ObjectId,
        filter: &GroupFilter,
        page: PageRequest,
    ) -> Result<(Vec<Group>, u64), StoreError> {
        let mut condition = SqlBuilder::default();
        condition
            .push(" WHERE g.application_id = ")
            .bind(SqlParam::Text(application_id.to_string()));
        if let Some(name) = &filter.name {
            condition
                .push(" AND ")
                .push(Self::DIALECT.substring_position())
                .push("lower(g.name), lower(");
            condition.bind(SqlParam::Text(name.clone())).push(")) > 0");
        }
        if let Some(kind) = &filter.kind {
            condition
                .push(" AND g.type = ")
                .bind(SqlParam::Text(kind.clone()));
        }
        if let Some(status) = &filter.status {
            condition
                .push(" AND g.status = ")
                .bind(SqlParam::Text(status.clone()));
        }
        if let Some(uid) = filter.uid {
            condition.push(" AND g.uid = ").bind(SqlParam::Int(uid));
        }
        let mut conn = self.pool.acquire().await?;
        let (rows, total): (Vec<GroupRow>, u64) = fetch_page(
            &mut conn,
            GROUP_COLUMNS,
            "customer_groups g",
            condition,
            "g.id DESC",
            page,
        )
        .await?;
        let mut groups = rows
            .into_iter()
            .map(Group::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Self::with_blacklists(&mut conn, &mut groups).await?;
        Ok((groups, total))
    }

    async fn update_group(
        &self,
        group: &Group,
        changes: &MemberChanges,
        members_job: Option<&NewJob>,
    ) -> Result<Group, StoreError> {
        let mut tx = self.begin_write().await?;
        Self::check_customers(&mut tx, &group.application_id, changes).await?;
        let updated = sqlx::query(
            "UPDATE customer_groups SET name = $1, description = $2, type = $3, status = $4, \
             is_active = $5, conditions = $6, file_url = $7, error_count = $8, error_file_url = \
             $9, tags = $10, updated_at = $11, version = version + 1 WHERE id = $12 AND \
             application_id = $13",
        )
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.kind.as_str())
        .bind(group.status.as_str())
        .bind(group.is_active)
        .bind(serde_json::json!(group.conditions).to_string())
        .bind(&group.file_url)
        .bind(group.error_count)
        .bind(&group.error_file_url)
        .bind(serde_json::json!(group.tags).to_string())
        .bind(to_millis(group.updated_at))
        .bind(group.id.as_str())
        .bind(group.application_id.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::not_found(Entity::Group, &group.id));
        }
        Self::write_condition_refs(&mut tx, group).await?;
        Self::apply_changes(&mut tx, &group.id, changes).await?;
        if let Some(new) = members_job {
            Self::insert_job(&mut tx, &new.job, &new.failures).await?;
        }
        let saved = Self::group_row(&mut tx, &group.application_id, &group.id)
            .await?
            .ok_or_else(|| StoreError::not_found(Entity::Group, &group.id))?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn apply_member_batch(
        &self,
        group_id: &ObjectId,
        changes: &MemberChanges,
        checkpoint: &crate::jobs::Checkpoint,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::apply_changes(&mut tx, group_id, changes).await?;
        Self::advance_job(&mut tx, checkpoint, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_group_status(
        &self,
        group_id: &ObjectId,
        status: GroupStatus,
        error_count: Option<i64>,
        error_file_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE customer_groups SET status = $1, error_count = $2, error_file_url = $3, \
             updated_at = $4, version = version + 1 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(error_count)
        .bind(error_file_url)
        .bind(to_millis(now))
        .bind(group_id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn resolve_customers(
        &self,
        application_id: &ObjectId,
        identifiers: &[Identifier],
    ) -> Result<Vec<Option<ObjectId>>, StoreError> {
        let app = || SqlParam::Text(application_id.to_string());
        let mut conn = self.pool.acquire().await?;
        let mut by_phone = std::collections::BTreeMap::new();
        let ids: Vec<&str> = identifiers
            .iter()
            .filter_map(|i| match i {
                Identifier::UserId(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        let by_id = Self::live_owners(
            &mut conn,
            application_id,
            "id, id FROM customers",
            "id",
            &ids,
        )
        .await?;
        let emails: Vec<&str> = identifiers
            .iter()
            .filter_map(|i| match i {
                Identifier::Email(e) => Some(e.as_str()),
                _ => None,
            })
            .collect();
        let by_email = Self::live_owners(
            &mut conn,
            application_id,
            "email, customer_id FROM customer_emails",
            "email",
            &emails,
        )
        .await?;
        let phones: Vec<&Phone> = identifiers
            .iter()
            .filter_map(|i| match i {
                Identifier::Phone(p) => Some(p),
                _ => None,
            })
            .collect();
        for chunk in phones.chunks(IDS_PER_STATEMENT / 2) {
            let mut sql = SqlBuilder::default();
            sql.push(
                "SELECT CAST(country_code AS BIGINT), phone, customer_id FROM customer_phones \
                 WHERE application_id = ",
            )
            .bind(app());
            sql.push(" AND archived = FALSE AND (");
            for (index, phone) in chunk.iter().enumerate() {
                if index > 0 {
                    sql.push(" OR ");
                }
                sql.push("(country_code = ")
                    .bind(SqlParam::Int(i64::from(phone.country_code())));
                sql.push(" AND phone = ")
                    .bind(SqlParam::Text(phone.national().to_owned()))
                    .push(")");
            }
            sql.push(")");
            let rows: Vec<(i64, String, String)> =
                sqlx::query_as_with::<_, (i64, String, String), _>(
                    &sql.sql,
                    arguments(&sql.params)?,
                )
                .fetch_all(&mut *conn)
                .await?;
            by_phone.extend(
                rows.into_iter()
                    .map(|(code, phone, id)| ((code, phone), id)),
            );
        }
        Ok(identifiers
            .iter()
            .map(|identifier| match identifier {
                Identifier::UserId(id) => by_id.contains_key(id.as_str()).then(|| id.clone()),
                Identifier::Email(email) => by_email
                    .get(email.as_str())
                    .cloned()
                    .map(ObjectId::from_trusted),
                Identifier::Phone(phone) => by_phone
                    .get(&(i64::from(phone.country_code()), phone.national().to_owned()))
                    .cloned()
                    .map(ObjectId::from_trusted),
            })
            .collect())
    }

    async fn list_members(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        page: PageRequest,
    ) -> Result<(Vec<Customer>, u64), StoreError> {
        /// Most customer rows a page may walk (newest first, probing each) before
        /// the page is read from the member set instead.
        const WALK_BUDGET: f64 = 20_000.0;
        /// Groups with fewer than one member in this many live customers are read
        /// from the member set (a walk would pass too many non-members).
        const SPARSE: u64 = 16;
        let mut conn = self.pool.acquire().await?;
        let mut count = SqlBuilder::default();
        push_member_count(&mut count, membership, Self::DIALECT);
        let (total,): (i64,) =
            sqlx::query_as_with::<_, (i64,), _>(&count.sql, arguments(&count.params)?)
                .fetch_one(&mut *conn)
                .await?;
        let total = u64::try_from(total).unwrap_or_default();
        if total == 0 || page.offset() >= total {
            return Ok((Vec::new(), total));
        }
        let (live,): (Option<i64>,) = sqlx::query_as(
            "SELECT CAST(SUM(live) AS BIGINT) FROM customer_counts WHERE application_id = $1",
        )
        .bind(application_id.as_str())
        .fetch_one(&mut *conn)
        .await?;
        // Members are spread evenly enough among customers that reaching the page's
        // last member walks about (offset + size) × live ÷ members rows.
        let live = u64::try_from(live.unwrap_or(0)).unwrap_or_default();
        let walked = (page.offset() + u64::from(page.size())) as f64 * live as f64 / total as f64;
        let walk = total.saturating_mul(SPARSE) >= live && walked <= WALK_BUDGET;
        let mut select = SqlBuilder::default();
        select.push(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.application_id = "
        ));
        select.bind(SqlParam::Text(application_id.to_string()));
        if walk {
            select.push(" AND c.archived = FALSE AND ");
            push_membership(&mut select, membership, Self::DIALECT);
            select.push(" ORDER BY c.id DESC LIMIT ");
        } else {
            select.push(" AND c.id IN (SELECT members.customer_id FROM (");
            push_member_ids(&mut select, membership, Self::DIALECT);
            select.push(") members ORDER BY members.customer_id DESC LIMIT ");
        }
        select.bind(SqlParam::Int(i64::from(page.size())));
        select.push(" OFFSET ").bind(SqlParam::Int(
            i64::try_from(page.offset()).unwrap_or(i64::MAX),
        ));
        if !walk {
            select.push(") ORDER BY c.id DESC");
        }
        let rows: Vec<CustomerRow> =
            sqlx::query_as_with::<_, CustomerRow, _>(&select.sql, arguments(&select.params)?)
                .fetch_all(&mut *conn)
                .await?;
        let customers = Self::with_contacts(&mut conn, rows).await?;
        Ok((customers, total))
    }

    async fn is_member(
        &self,
        application_id: &ObjectId,
        membership: &Membership,
        customer_id: &ObjectId,
    ) -> Result<bool, StoreError> {
        let mut sql = SqlBuilder::default();
        sql.push("SELECT COUNT(*) FROM customers c WHERE c.id = ")
            .bind(SqlParam::Text(customer_id.to_string()));
        sql.push(" AND c.application_id = ")
            .bind(SqlParam::Text(application_id.to_string()));
        sql.push(" AND c.archived = FALSE AND ");
        push_membership(&mut sql, membership, Self::DIALECT);
        let (count,): (i64,) =
            sqlx::query_as_with::<_, (i64,), _>(&sql.sql, arguments(&sql.params)?)
                .fetch_one(&self.pool)
                .await?;
        Ok(count > 0)
    }
}
