//! Creating and changing groups as a request asks: the checks on type, conditions and
//! member file, and the write of the group together with the job that reads its file (one
//! transaction: a group is never left `pending` without the job that will complete it).

use patron_domain::csv_list::{Identifier, ListFormat, MemberAction};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::phone::Phone;
use patron_store::{Group, GroupCondition, GroupKind, GroupStatus, MemberChanges};

use super::{group_text, required, ConditionInput, Groups};
use crate::jobs::MemberFile;
use crate::{Requester, ServiceError};

/// Most users one request may list (`user_data`, `whitelisted_users`, `blacklisted_users`).
pub const MAX_LISTED: usize = 10_000;

/// A group's definition as a create (`POST`) or replace (`PUT`) request states it.
#[derive(Debug, Clone, Default)]
pub struct GroupDraft<'a> {
    /// Shown name (required on create).
    pub name: Option<String>,
    /// Shown description.
    pub description: Option<String>,
    /// `bulk` or `conditional`, as sent.
    pub kind: Option<&'a str>,
    /// The conditions of a conditional group.
    pub conditions: Option<Vec<ConditionInput<'a>>>,
    /// The member file of a bulk group.
    pub file_url: Option<String>,
    /// Customers never admitted, by id.
    pub blacklisted_users: Option<Vec<String>>,
}

/// A partial change (`PATCH`): new name or description, members added or removed by
/// list or file, white- and blacklists.
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    /// `json` (members in `user_data`) or `file_url`, as sent.
    pub source: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// A member file with an `action` column.
    pub file_url: Option<String>,
    /// Members to add or remove.
    pub user_data: Option<Vec<MemberEntry>>,
    /// Customers always admitted, by id.
    pub whitelisted_users: Option<Vec<String>>,
    /// Customers never admitted, by id.
    pub blacklisted_users: Option<Vec<String>>,
}

/// One member change of a patch: exactly one of id, email and phone, and an action.
#[derive(Debug, Clone, Default)]
pub struct MemberEntry {
    /// The customer's id.
    pub user_id: Option<String>,
    /// The customer's phone number.
    pub phone_number: Option<String>,
    /// The customer's email.
    pub email: Option<String>,
    /// `add` or `remove`.
    pub action: Option<String>,
}

impl Groups {
    /// Creates a group: active, and `pending` with the job that reads its member file when
    /// it has one (group and job written together). The name is required, the description
    /// may be empty.
    pub async fn create(
        &self,
        requester: Requester<'_>,
        draft: GroupDraft<'_>,
    ) -> Result<Group, ServiceError> {
        let application_id = &requester.application.id;
        let conditions = draft.conditions.unwrap_or_default();
        let kind = match draft.kind.map(str::trim).filter(|k| !k.is_empty()) {
            Some(raw) => parse_kind(raw)?,
            None if conditions.is_empty() => GroupKind::Bulk,
            None => GroupKind::Conditional,
        };
        let conditions = self
            .check_shape(application_id, kind, &conditions, draft.file_url.as_deref())
            .await?;
        let name = group_text("name", draft.name, true)?.unwrap_or_default();
        let description = group_text("description", draft.description, false)?.unwrap_or_default();
        let blacklist = user_ids("blacklisted_users", draft.blacklisted_users)?;
        let file = match &draft.file_url {
            Some(url) => Some(
                self.jobs
                    .member_file(requester, url, ListFormat::Members)
                    .await?,
            ),
            None => None,
        };
        let now = self.clock.now();
        let group = Group {
            id: ObjectId::generate(now),
            application_id: application_id.clone(),
            uid: 0,
            name,
            description,
            kind,
            status: if file.is_some() {
                GroupStatus::Pending
            } else {
                GroupStatus::Completed
            },
            is_active: true,
            conditions,
            file_url: draft.file_url,
            error_count: None,
            error_file_url: None,
            tags: Vec::new(),
            blacklisted: Vec::new(),
            created_at: now,
            updated_at: now,
            version: 0,
        };
        let members_job = file
            .map(|file| self.jobs.members_job(requester, &group.id, file))
            .transpose()?;
        let changes = MemberChanges {
            blacklist,
            ..MemberChanges::default()
        };
        Ok(self
            .groups
            .create_group(&group, &changes, members_job.as_ref())
            .await?)
    }

    /// Replaces a group's definition (`PUT`): what the draft gives changes, the rest stays.
    pub async fn replace(
        &self,
        requester: Requester<'_>,
        id: &ObjectId,
        draft: GroupDraft<'_>,
    ) -> Result<Group, ServiceError> {
        let application_id = &requester.application.id;
        let mut group = self.find(application_id, id).await?;
        rename(&mut group, draft.name, draft.description)?;
        if let Some(raw) = draft.kind.map(str::trim).filter(|k| !k.is_empty()) {
            group.kind = parse_kind(raw)?;
        }
        let conditions_given = draft.conditions.is_some();
        let conditions = draft.conditions.unwrap_or_default();
        if conditions_given || draft.kind.is_some() {
            let wanted = if conditions_given {
                conditions.as_slice()
            } else if group.kind == GroupKind::Bulk {
                &[]
            } else {
                return Err(ServiceError::invalid(
                    "conditions",
                    "give the conditions when making a group conditional",
                ));
            };
            group.conditions = self
                .check_shape(
                    application_id,
                    group.kind,
                    wanted,
                    draft.file_url.as_deref(),
                )
                .await?;
        } else if group.kind == GroupKind::Conditional && draft.file_url.is_some() {
            return Err(conditional_file("file_url"));
        }
        let file = match &draft.file_url {
            Some(url) => Some(
                self.jobs
                    .member_file(requester, url, ListFormat::Members)
                    .await?,
            ),
            None => None,
        };
        let changes = MemberChanges {
            blacklist: user_ids("blacklisted_users", draft.blacklisted_users)?,
            ..MemberChanges::default()
        };
        self.save(requester, group, draft.file_url, file, &changes)
            .await
    }

    /// Changes a group partly (`PATCH`): members of a bulk group added or removed by list
    /// (all or nothing: an entry naming no live customer fails the request) or by file, and
    /// white- and blacklists.
    pub async fn patch(
        &self,
        requester: Requester<'_>,
        id: &ObjectId,
        patch: GroupPatch,
    ) -> Result<Group, ServiceError> {
        let application_id = &requester.application.id;
        let mut group = self.find(application_id, id).await?;
        rename(&mut group, patch.name, patch.description)?;
        let source = patch
            .source
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let (use_json, use_file) = match source {
            Some("json") => (true, false),
            Some("file_url") => (false, true),
            Some(other) => {
                return Err(ServiceError::invalid(
                    "type",
                    format!("must be json or file_url, got '{other}'"),
                ))
            }
            None => (patch.user_data.is_some(), patch.file_url.is_some()),
        };
        // An empty `user_data` list changes no members, whatever the group's type.
        let use_json = use_json && patch.user_data.as_ref().is_none_or(|data| !data.is_empty());
        if (use_json || use_file) && group.kind == GroupKind::Conditional {
            return Err(ServiceError::invalid(
                if use_json { "user_data" } else { "file_url" },
                "members of a conditional group come from its conditions; use whitelisted_users and blacklisted_users",
            ));
        }
        let mut changes = MemberChanges {
            whitelist: user_ids("whitelisted_users", patch.whitelisted_users)?,
            blacklist: user_ids("blacklisted_users", patch.blacklisted_users)?,
            ..MemberChanges::default()
        };
        if use_json {
            let data = patch.user_data.ok_or_else(|| required("user_data"))?;
            let (adds, removes) = self.resolve_entries(requester, &data).await?;
            changes.add = adds;
            changes.remove = removes;
        }
        let file = if use_file {
            let url = patch
                .file_url
                .as_deref()
                .ok_or_else(|| required("file_url"))?;
            Some(
                self.jobs
                    .member_file(requester, url, ListFormat::MembersWithAction)
                    .await?,
            )
        } else {
            None
        };
        self.save(requester, group, patch.file_url, file, &changes)
            .await
    }

    /// Saves a changed group, with its member file's job when a new file was given (the
    /// group then `pending` until the job ends).
    async fn save(
        &self,
        requester: Requester<'_>,
        mut group: Group,
        file_url: Option<String>,
        file: Option<MemberFile>,
        changes: &MemberChanges,
    ) -> Result<Group, ServiceError> {
        if file.is_some() {
            group.file_url = file_url;
            group.status = GroupStatus::Pending;
            group.error_count = None;
            group.error_file_url = None;
        }
        group.updated_at = self.clock.now();
        let members_job = file
            .map(|file| self.jobs.members_job(requester, &group.id, file))
            .transpose()?;
        Ok(self
            .groups
            .update_group(&group, changes, members_job.as_ref())
            .await?)
    }

    /// Checks that a group's type, conditions and file agree, and the conditions
    /// themselves; returns the conditions as stored.
    async fn check_shape(
        &self,
        application_id: &ObjectId,
        kind: GroupKind,
        conditions: &[ConditionInput<'_>],
        file_url: Option<&str>,
    ) -> Result<Vec<GroupCondition>, ServiceError> {
        match kind {
            GroupKind::Conditional if conditions.is_empty() => Err(ServiceError::invalid(
                "conditions",
                "a conditional group needs at least one condition",
            )),
            GroupKind::Conditional if file_url.is_some() => Err(conditional_file("file_url")),
            GroupKind::Bulk if !conditions.is_empty() => Err(ServiceError::invalid(
                "conditions",
                "conditions apply to conditional groups; this group is bulk",
            )),
            _ => self.check_conditions(application_id, conditions).await,
        }
    }

    /// Resolves `user_data` entries to customers, all or nothing: any entry naming no live
    /// customer fails with `UnknownCustomers`.
    async fn resolve_entries(
        &self,
        requester: Requester<'_>,
        data: &[MemberEntry],
    ) -> Result<(Vec<ObjectId>, Vec<ObjectId>), ServiceError> {
        if data.len() > MAX_LISTED {
            return Err(ServiceError::invalid(
                "user_data",
                format!("may list at most {MAX_LISTED} items"),
            ));
        }
        let region = requester.application.default_region;
        let mut identifiers = Vec::with_capacity(data.len());
        let mut actions = Vec::with_capacity(data.len());
        for (index, item) in data.iter().enumerate() {
            let field = |name: &str| format!("user_data[{index}].{name}");
            let action = item
                .action
                .as_deref()
                .ok_or_else(|| required(&field("action")))?;
            actions.push(MemberAction::parse(&field("action"), action)?);
            let given = [&item.user_id, &item.email, &item.phone_number]
                .iter()
                .filter(|value| value.as_deref().is_some_and(|v| !v.trim().is_empty()))
                .count();
            if given != 1 {
                return Err(ServiceError::invalid(
                    &format!("user_data[{index}]"),
                    "give exactly one of user_id, email and phone_number",
                ));
            }
            let identifier =
                if let Some(id) = item.user_id.as_deref().filter(|v| !v.trim().is_empty()) {
                    Identifier::UserId(ObjectId::parse(&field("user_id"), id.trim())?)
                } else if let Some(email) = item.email.as_deref().filter(|v| !v.trim().is_empty()) {
                    Identifier::Email(Email::parse(&field("email"), email)?)
                } else {
                    let phone = item.phone_number.as_deref().unwrap_or_default();
                    Identifier::Phone(Phone::parse(&field("phone_number"), phone, None, region)?)
                };
            identifiers.push(identifier);
        }
        let resolved = self
            .resolve_all(&requester.application.id, &identifiers)
            .await?;
        let mut adds = Vec::new();
        let mut removes = Vec::new();
        for (action, id) in actions.into_iter().zip(resolved) {
            match action {
                MemberAction::Add => adds.push(id),
                MemberAction::Remove => removes.push(id),
            }
        }
        Ok((adds, removes))
    }
}

/// Applies a new name and description, when given.
fn rename(
    group: &mut Group,
    name: Option<String>,
    description: Option<String>,
) -> Result<(), ServiceError> {
    if let Some(name) = group_text("name", name, false)? {
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "must not be empty"));
        }
        group.name = name;
    }
    if let Some(description) = group_text("description", description, false)? {
        group.description = description;
    }
    Ok(())
}

fn parse_kind(raw: &str) -> Result<GroupKind, ServiceError> {
    GroupKind::parse(raw).ok_or_else(|| {
        ServiceError::invalid("type", format!("must be bulk or conditional, got '{raw}'"))
    })
}

fn conditional_file(field: &str) -> ServiceError {
    ServiceError::invalid(
        field,
        "a conditional group takes its members from its conditions, not a file",
    )
}

/// A request's list of customer ids: at most [`MAX_LISTED`].
fn user_ids(field: &str, raw: Option<Vec<String>>) -> Result<Vec<ObjectId>, ServiceError> {
    Ok(ObjectId::parse_list(
        field,
        &raw.unwrap_or_default(),
        MAX_LISTED,
        "users",
    )?)
}
