//! Seed operations 21–25 and 8: customer groups and their members.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use patron_domain::csv_list::{Identifier, ListFormat, MemberAction};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::phone::Phone;
use patron_store::{Group, GroupCondition, GroupFilter, GroupKind, GroupStatus, MemberChanges};

use super::attributes::text_query;
use super::{fetch_list, id_list, scoped, Platform};
use crate::app::AppState;
use crate::error::{ApiError, ErrorBody as ErrorSchema};
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::customer::CustomerOut;
use crate::wire::group::{ConditionIn, GroupBody, GroupOut, PatchGroupBody, UserDataIn};
use crate::wire::path::GroupPath;
use crate::wire::Paged;
use patron_domain::scope::Scope;
use patron_service::{group_text, MemberRow, NewGroup};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most users one request may list (user_data, whitelisted_users, blacklisted_users).
const MAX_LISTED: usize = 10_000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersRead, routes!(list)))
        .routes(scoped(Scope::CustomersWrite, routes!(create)))
        .routes(scoped(Scope::CustomersRead, routes!(read)))
        .routes(scoped(Scope::CustomersWrite, routes!(update, patch)))
        .routes(scoped(Scope::CustomersRead, routes!(members)))
}

/// Applies a new name and description, when given.
fn rename(
    group: &mut Group,
    name: Option<String>,
    description: Option<String>,
) -> Result<(), ApiError> {
    if let Some(name) = group_text("name", name, false)? {
        if name.is_empty() {
            return Err(ApiError::validation("name", "must not be empty"));
        }
        group.name = name;
    }
    if let Some(description) = group_text("description", description, false)? {
        group.description = description;
    }
    Ok(())
}

fn parse_kind(raw: &str) -> Result<GroupKind, ApiError> {
    GroupKind::parse(raw).ok_or_else(|| {
        ApiError::validation("type", format!("must be bulk or conditional, got '{raw}'"))
    })
}

fn user_ids(field: &str, raw: Option<Vec<String>>) -> Result<Vec<ObjectId>, ApiError> {
    id_list(field, &raw.unwrap_or_default(), MAX_LISTED, "users")
}

/// The member rows of a group file, fetched and parsed; unusable rows are returned as
/// `(value, error)` pairs for the job's report.
async fn member_file(
    state: &AppState,
    caller: &Platform,
    url: &str,
    format: ListFormat,
) -> Result<(Vec<MemberRow>, Vec<(String, String)>), ApiError> {
    let parsed = fetch_list(
        state,
        "file_url",
        url,
        format,
        caller.application.default_region,
    )
    .await?;
    let rows = parsed
        .rows
        .iter()
        .map(|row| MemberRow::new(&row.identifier, row.action))
        .collect();
    let refused = parsed
        .errors
        .into_iter()
        .map(|error| (error.value, format!("line {}: {}", error.line, error.error)))
        .collect();
    Ok((rows, refused))
}

#[utoipa::path(
    post,
    path = "/user_group",
    operation_id = "createUserGroup",
    tag = "groups",
    summary = "Creates a conditional or bulk group.",
    request_body = GroupBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 201, description = "The group.", body = GroupOut),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<(StatusCode, Json<GroupOut>), ApiError> {
    let name = group_text("name", body.name, true)?.unwrap_or_default();
    let description = group_text("description", body.description, true)?.unwrap_or_default();
    let conditions = body.conditions.unwrap_or_default();
    let kind = match body
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        Some(raw) => parse_kind(raw)?,
        None if conditions.is_empty() => GroupKind::Bulk,
        None => GroupKind::Conditional,
    };
    let stored = check_shape(&state, &caller, kind, &conditions, body.file_url.as_deref()).await?;
    let blacklist = user_ids("blacklisted_users", body.blacklisted_users)?;
    let file = match &body.file_url {
        Some(url) => Some(member_file(&state, &caller, url, ListFormat::Members).await?),
        None => None,
    };
    let new = NewGroup {
        name,
        description,
        kind,
        conditions: stored,
        file_url: body.file_url.clone(),
        blacklist,
    };
    let created = state
        .services
        .groups
        .create(&caller.application.id, new)
        .await?;
    if let Some((rows, refused)) = file {
        submit_members(&state, &caller, &created.id, rows, refused).await?;
    }
    Ok((StatusCode::CREATED, Json(GroupOut::from(&created))))
}

/// Checks that a group's type, conditions and file agree, and the conditions themselves;
/// returns the conditions as stored.
async fn check_shape(
    state: &AppState,
    caller: &Platform,
    kind: GroupKind,
    conditions: &[crate::wire::group::ConditionIn],
    file_url: Option<&str>,
) -> Result<Vec<GroupCondition>, ApiError> {
    match kind {
        GroupKind::Conditional if conditions.is_empty() => Err(ApiError::validation(
            "conditions",
            "a conditional group needs at least one condition",
        )),
        GroupKind::Conditional if file_url.is_some() => Err(ApiError::validation(
            "file_url",
            "a conditional group takes its members from its conditions, not a file",
        )),
        GroupKind::Bulk if !conditions.is_empty() => Err(ApiError::validation(
            "conditions",
            "conditions apply to conditional groups; this group is bulk",
        )),
        _ => {
            let inputs: Vec<_> = conditions.iter().map(ConditionIn::input).collect();
            Ok(state
                .services
                .groups
                .check_conditions(&caller.application.id, &inputs)
                .await?)
        }
    }
}

async fn load(
    state: &AppState,
    application_id: &ObjectId,
    id: &ObjectId,
) -> Result<Group, ApiError> {
    Ok(state.services.groups.find(application_id, id).await?)
}

/// Stores a bulk group's member file as a job for the runner.
async fn submit_members(
    state: &AppState,
    caller: &Platform,
    group_id: &ObjectId,
    rows: Vec<MemberRow>,
    refused: Vec<(String, String)>,
) -> Result<ObjectId, ApiError> {
    let requester = caller.requester();
    Ok(state
        .services
        .jobs
        .submit_group_members(requester, group_id, rows, refused)
        .await?)
}

#[utoipa::path(
    get,
    path = "/user_group/{group_id}",
    operation_id = "getUserGroupById",
    tag = "groups",
    summary = "Reads a group.",
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
    ),
    responses(
        (status = 200, description = "The group.", body = GroupOut),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
) -> Result<Json<GroupOut>, ApiError> {
    let group = load(&state, &caller.application.id, &group_id).await?;
    Ok(Json(GroupOut::from(&group)))
}

#[utoipa::path(
    get,
    path = "/user_group",
    operation_id = "getUserGroups",
    tag = "groups",
    summary = "Lists the application's groups.",
    params(
        crate::openapi::ApplicationPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
        ("name" = Option<String>, Query, description = "Text the name contains."),
        ("type" = Option<String>, Query, description = "`bulk` or `conditional`."),
        ("status" = Option<String>, Query, description = "`pending`, `completed` or `failed`."),
        ("group_uid" = Option<String>, Query, description = "The group's number."),
    ),
    responses(
        (status = 200, description = "One page of groups.", body = Paged<GroupOut>),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<Paged<GroupOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let filter = GroupFilter {
        name: text_query(&query, "name"),
        kind: text_query(&query, "type"),
        status: text_query(&query, "status"),
        uid: text_query(&query, "group_uid")
            .map(|raw| {
                raw.parse::<i64>().map_err(|_| {
                    ApiError::validation(
                        "group_uid",
                        format!("must be a whole number, got '{raw}'"),
                    )
                })
            })
            .transpose()?,
    };
    let (groups, total) = state
        .services
        .groups
        .list(&caller.application.id, &filter, page)
        .await?;
    let items = groups.iter().map(GroupOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}

#[utoipa::path(
    put,
    path = "/user_group/{group_id}",
    operation_id = "updateUserGroup",
    tag = "groups",
    summary = "Replaces a group's definition.",
    request_body = GroupBody,
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
    ),
    responses(
        (status = 200, description = "The group.", body = GroupOut),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
    JsonBody(body): JsonBody<GroupBody>,
) -> Result<Json<GroupOut>, ApiError> {
    let mut group = load(&state, &caller.application.id, &group_id).await?;
    rename(&mut group, body.name, body.description)?;
    if let Some(raw) = body
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        group.kind = parse_kind(raw)?;
    }
    let conditions_given = body.conditions.is_some();
    let conditions = body.conditions.unwrap_or_default();
    if conditions_given || body.kind.is_some() {
        let wanted = if conditions_given {
            conditions.as_slice()
        } else if group.kind == GroupKind::Bulk {
            &[]
        } else {
            return Err(ApiError::validation(
                "conditions",
                "give the conditions when making a group conditional",
            ));
        };
        group.conditions = check_shape(
            &state,
            &caller,
            group.kind,
            wanted,
            body.file_url.as_deref(),
        )
        .await?;
    } else if group.kind == GroupKind::Conditional && body.file_url.is_some() {
        return Err(ApiError::validation(
            "file_url",
            "a conditional group takes its members from its conditions, not a file",
        ));
    }
    let file = match &body.file_url {
        Some(url) => Some(member_file(&state, &caller, url, ListFormat::Members).await?),
        None => None,
    };
    if file.is_some() {
        group.file_url = body.file_url.clone();
        group.status = GroupStatus::Pending;
        group.error_count = None;
        group.error_file_url = None;
    }
    let blacklist = user_ids("blacklisted_users", body.blacklisted_users)?;
    group.updated_at = state.clock.now();
    let saved = state
        .services
        .groups
        .update(
            &group,
            &MemberChanges {
                blacklist,
                ..MemberChanges::default()
            },
        )
        .await?;
    if let Some((rows, refused)) = file {
        submit_members(&state, &caller, &saved.id, rows, refused).await?;
    }
    Ok(Json(GroupOut::from(&saved)))
}

#[utoipa::path(
    patch,
    path = "/user_group/{group_id}",
    operation_id = "updateUserGroupPartially",
    tag = "groups",
    summary = "Adds or removes members of a bulk group, or changes white- and blacklists.",
    request_body = PatchGroupBody,
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
    ),
    responses(
        (status = 200, description = "The group.", body = GroupOut),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn patch(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
    JsonBody(body): JsonBody<PatchGroupBody>,
) -> Result<Json<GroupOut>, ApiError> {
    let mut group = load(&state, &caller.application.id, &group_id).await?;
    rename(&mut group, body.name, body.description)?;
    let source = body
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let (use_json, use_file) = match source {
        Some("json") => (true, false),
        Some("file_url") => (false, true),
        Some(other) => {
            return Err(ApiError::validation(
                "type",
                format!("must be json or file_url, got '{other}'"),
            ))
        }
        None => (body.user_data.is_some(), body.file_url.is_some()),
    };
    // An empty `user_data` list changes no members, whatever the group's type.
    let use_json = use_json && body.user_data.as_ref().is_none_or(|data| !data.is_empty());
    if (use_json || use_file) && group.kind == GroupKind::Conditional {
        return Err(ApiError::validation(
            if use_json { "user_data" } else { "file_url" },
            "members of a conditional group come from its conditions; use whitelisted_users and blacklisted_users",
        ));
    }
    let mut changes = MemberChanges {
        whitelist: user_ids("whitelisted_users", body.whitelisted_users)?,
        blacklist: user_ids("blacklisted_users", body.blacklisted_users)?,
        ..MemberChanges::default()
    };
    if use_json {
        let data = body
            .user_data
            .ok_or_else(|| ApiError::required("user_data"))?;
        let (adds, removes) = resolve_user_data(&state, &caller, &data).await?;
        changes.add = adds;
        changes.remove = removes;
    }
    let file = if use_file {
        let url = body
            .file_url
            .as_deref()
            .ok_or_else(|| ApiError::required("file_url"))?;
        Some(member_file(&state, &caller, url, ListFormat::MembersWithAction).await?)
    } else {
        None
    };
    if file.is_some() {
        group.file_url = body.file_url.clone();
        group.status = GroupStatus::Pending;
        group.error_count = None;
        group.error_file_url = None;
    }
    group.updated_at = state.clock.now();
    let saved = state.services.groups.update(&group, &changes).await?;
    if let Some((rows, refused)) = file {
        submit_members(&state, &caller, &saved.id, rows, refused).await?;
    }
    Ok(Json(GroupOut::from(&saved)))
}

/// Resolves `user_data` items to customers, all or nothing: any item naming no live
/// customer fails the request with `UNKNOWN_USERS`.
async fn resolve_user_data(
    state: &AppState,
    caller: &Platform,
    data: &[UserDataIn],
) -> Result<(Vec<ObjectId>, Vec<ObjectId>), ApiError> {
    if data.len() > MAX_LISTED {
        return Err(ApiError::validation(
            "user_data",
            format!("may list at most {MAX_LISTED} items"),
        ));
    }
    let region = caller.application.default_region;
    let mut identifiers = Vec::with_capacity(data.len());
    let mut actions = Vec::with_capacity(data.len());
    for (index, item) in data.iter().enumerate() {
        let field = |name: &str| format!("user_data[{index}].{name}");
        let action = item
            .action
            .as_deref()
            .ok_or_else(|| ApiError::required(&field("action")))?;
        actions.push(MemberAction::parse(&field("action"), action)?);
        let given = [&item.user_id, &item.email, &item.phone_number]
            .iter()
            .filter(|value| value.as_deref().is_some_and(|v| !v.trim().is_empty()))
            .count();
        if given != 1 {
            return Err(ApiError::validation(
                format!("user_data[{index}]"),
                "give exactly one of user_id, email and phone_number",
            ));
        }
        let identifier = if let Some(id) = item.user_id.as_deref().filter(|v| !v.trim().is_empty())
        {
            Identifier::UserId(ObjectId::parse(&field("user_id"), id.trim())?)
        } else if let Some(email) = item.email.as_deref().filter(|v| !v.trim().is_empty()) {
            Identifier::Email(Email::parse(&field("email"), email)?)
        } else {
            let phone = item.phone_number.as_deref().unwrap_or_default();
            Identifier::Phone(Phone::parse(&field("phone_number"), phone, None, region)?)
        };
        identifiers.push(identifier);
    }
    let resolved = state
        .services
        .groups
        .resolve_all(&caller.application.id, &identifiers)
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

#[utoipa::path(
    get,
    path = "/user_group/{group_id}/users",
    operation_id = "getUsersByByGroupId",
    tag = "groups",
    summary = "Lists a group's members, computed now.",
    params(
        crate::openapi::ApplicationPath,
        GroupPath,
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
    ),
    responses(
        (status = 200, description = "One page of members.", body = Paged<CustomerOut>),
        (status = 404, description = "No such group.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn members(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(GroupPath { group_id }): PathParams<GroupPath>,
    query: QueryPairs,
) -> Result<Json<Paged<CustomerOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let group = load(&state, &caller.application.id, &group_id).await?;
    let membership = state.services.groups.membership(&group).await?;
    let (customers, total) = state
        .services
        .groups
        .members(&caller.application.id, &membership, None, page)
        .await?;
    let items: Vec<CustomerOut> = customers.into_iter().map(CustomerOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}
