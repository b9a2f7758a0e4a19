//! Seed operations 1–7: list, search, create, block/unblock, restore, update, archive.

use axum::extract::State;
use axum::Json;
use patron_domain::customer::{
    normalise_contacts, validate_meta, validate_text, CustomerChanges, EmailEntry, PhoneEntry,
    Profile,
};
use patron_domain::email::Email;
use patron_domain::ids::ObjectId;
use patron_domain::page::PageRequest;
use patron_domain::phone::{Phone, Region};
use patron_domain::query::parse_query;
use patron_store::Actor;

use super::{scoped, Platform};
use crate::app::AppState;
use crate::error::{ApiError, ErrorBody as ErrorSchema};
use crate::extract::PathParams;
use crate::extract::{JsonBody, QueryPairs};
use crate::wire::customer::{
    ActivationBody, ArchiveBody, CreateCustomerBody, CustomerOut, EmailIn, PhoneIn, TimelineOut,
    UndeleteBody, UpdateCustomerBody, UserOut, UsersOut,
};
use crate::wire::path::UserPath;
use crate::wire::{Paged, Success, SUCCESS};
use patron_domain::scope::Scope;
use patron_service::CustomerDraft;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Most ids one block/unblock request may name.
const MAX_BATCH: usize = 1000;
/// Most values one search may ask for.
const MAX_SEARCH_VALUES: usize = 50;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(scoped(Scope::CustomersRead, routes!(list)))
        .routes(scoped(Scope::CustomersRead, routes!(search)))
        .routes(scoped(Scope::CustomersWrite, routes!(create)))
        .routes(scoped(Scope::CustomersWrite, routes!(activation)))
        .routes(scoped(Scope::CustomersWrite, routes!(undelete)))
        .routes(scoped(Scope::CustomersWrite, routes!(archive)))
        .routes(scoped(Scope::CustomersWrite, routes!(update)))
        .routes(scoped(Scope::CustomersRead, routes!(timeline)))
}

#[utoipa::path(
    get,
    path = "/customers/{user_id}/timeline",
    operation_id = "getUserTimeline",
    tag = "customers",
    summary = "A customer's history, newest first.",
    params(
        crate::openapi::ApplicationPath,
        UserPath,
    ),
    responses(
        (status = 200, description = "The timeline.", body = TimelineOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
/// `getUserTimeline`: what happened to a customer, newest first.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(UserPath { user_id: id }): PathParams<UserPath>,
) -> Result<Json<TimelineOut>, ApiError> {
    let timeline = state
        .services
        .customers
        .timeline(&caller.application.id, &id)
        .await?;
    Ok(Json(timeline.into()))
}

#[utoipa::path(
    get,
    path = "/customers/list",
    operation_id = "getCustomers",
    tag = "customers",
    summary = "Lists the application's customers, newest first, optionally filtered by the `q` language.",
    params(
        crate::openapi::ApplicationPath,
        ("q" = Option<String>, Query, description = "A filter in the `q` language, or text to find."),
        ("page_no" = Option<String>, Query, description = "Page, from 1."),
        ("page_size" = Option<String>, Query, description = "Items per page, 1 to 100."),
    ),
    responses(
        (status = 200, description = "One page of customers.", body = Paged<CustomerOut>),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<Paged<CustomerOut>>, ApiError> {
    let page = PageRequest::parse(query.get("page_no"), query.get("page_size"))?;
    let filter = parse_query(
        query.get("q").unwrap_or_default(),
        caller.application.default_region,
    )?;
    let (customers, total) = state
        .services
        .customers
        .list(&caller.application.id, filter.as_ref(), page)
        .await?;
    let items: Vec<CustomerOut> = customers.into_iter().map(CustomerOut::from).collect();
    Ok(Json(Paged::new(items, page.info(total))))
}

#[utoipa::path(
    get,
    path = "/customers/search",
    operation_id = "searchUsers",
    tag = "customers",
    summary = "Finds live customers by email or phone number.",
    params(
        crate::openapi::ApplicationPath,
        ("q" = Option<String>, Query, description = "An email or phone number."),
        ("query" = Option<Vec<String>>, Query, description = "More emails or phone numbers."),
    ),
    responses(
        (status = 200, description = "The customers found.", body = UsersOut),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
) -> Result<Json<UsersOut>, ApiError> {
    let values: Vec<&str> = query
        .get("q")
        .into_iter()
        .chain(query.all("query"))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if values.len() > MAX_SEARCH_VALUES {
        return Err(ApiError::validation(
            "query",
            format!("at most {MAX_SEARCH_VALUES} values may be searched at once"),
        ));
    }
    let region = caller.application.default_region;
    let emails: Vec<Email> = values
        .iter()
        .filter(|v| v.contains('@'))
        .filter_map(|v| Email::parse("query", v).ok())
        .collect();
    let phones: Vec<Phone> = values
        .iter()
        .filter(|v| !v.contains('@'))
        .filter_map(|v| Phone::parse("query", v, None, region).ok())
        .collect();
    let customers = state
        .services
        .customers
        .find_by_contacts(&caller.application.id, &emails, &phones)
        .await?;
    Ok(Json(customers.into()))
}

#[utoipa::path(
    post,
    path = "/customers",
    operation_id = "createUser",
    tag = "customers",
    summary = "Creates a customer.",
    request_body = CreateCustomerBody,
    params(
        crate::openapi::ApplicationPath,
        ("verified" = Option<bool>, Query, description = "Mark the contacts verified."),
    ),
    responses(
        (status = 200, description = "The customer.", body = UserOut),
        (status = 409, description = "The email, phone number or username is taken.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Platform,
    query: QueryPairs,
    JsonBody(body): JsonBody<CreateCustomerBody>,
) -> Result<Json<UserOut>, ApiError> {
    let verified = match query.get("verified") {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(ApiError::validation(
                "verified",
                format!("must be true or false, got '{other}'"),
            ))
        }
    };
    let region = caller.application.default_region;
    let email = optional_text(body.email.as_deref())
        .map(|email| Email::parse("email", email))
        .transpose()?;
    let phone = optional_text(body.phone_number.as_deref())
        .map(|phone| Phone::parse("phone_number", phone, None, region))
        .transpose()?;
    let profile = Profile {
        first_name: text_field("first_name", body.first_name.as_deref())?,
        last_name: text_field("last_name", body.last_name.as_deref())?,
        gender: text_field("gender", body.gender.as_deref())?,
        dob: text_field("dob", body.dob.as_deref())?,
        profile_pic_url: None,
        external_id: text_field("external_id", body.external_id.as_deref())?,
        rr_id: text_field("rr_id", body.rr_id.as_deref())?,
        meta: body.meta.unwrap_or_default(),
    };
    validate_meta(&profile.meta)?;
    let draft = CustomerDraft {
        username: optional_text(body.username.as_deref()).map(str::to_owned),
        profile,
        email,
        phone,
        email_verified: verified,
        phone_verified: verified,
        password_hash: None,
        proven_by_shopper: false,
    };
    let actor = Actor::new(&caller.client_id);
    let customer = state
        .services
        .customers
        .create(&caller.application.id, draft, &actor)
        .await?;
    Ok(Json(customer.into()))
}

#[utoipa::path(
    put,
    path = "/customers/{user_id}",
    operation_id = "updateUser",
    tag = "customers",
    summary = "Changes a customer's profile and contacts.",
    request_body = UpdateCustomerBody,
    params(
        crate::openapi::ApplicationPath,
        UserPath,
    ),
    responses(
        (status = 200, description = "The customer.", body = UserOut),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Platform,
    PathParams(UserPath { user_id: id }): PathParams<UserPath>,
    JsonBody(body): JsonBody<UpdateCustomerBody>,
) -> Result<Json<UserOut>, ApiError> {
    let region = caller.application.default_region;
    let meta = body.meta;
    if let Some(meta) = &meta {
        validate_meta(meta)?;
    }
    let changes = CustomerChanges {
        first_name: text_field("first_name", body.first_name.as_deref())?,
        last_name: text_field("last_name", body.last_name.as_deref())?,
        gender: text_field("gender", body.gender.as_deref())?,
        external_id: text_field("external_id", body.external_id.as_deref())?,
        rr_id: text_field("rr_id", body.rr_id.as_deref())?,
        meta,
        emails: body.emails.map(email_entries).transpose()?,
        phones: body
            .phone_numbers
            .map(|phones| phone_entries(phones, region))
            .transpose()?,
        ..CustomerChanges::default()
    };
    let actor = Actor::new(&caller.client_id);
    let customer = state
        .services
        .customers
        .update(&caller.application.id, &id, &changes, &actor)
        .await?;
    Ok(Json(customer.into()))
}

#[utoipa::path(
    put,
    path = "/customers/activation",
    operation_id = "blockOrUnblockUsers",
    tag = "customers",
    summary = "Blocks or unblocks customers, with a reason.",
    request_body = ActivationBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "Done.", body = Success),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn activation(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<ActivationBody>,
) -> Result<Json<Success>, ApiError> {
    let active = body.status.ok_or_else(|| ApiError::required("status"))?;
    let reason = required_text("reason", body.reason.as_deref())?;
    let raw_ids = body.user_id.ok_or_else(|| ApiError::required("user_id"))?;
    if raw_ids.is_empty() || raw_ids.len() > MAX_BATCH {
        return Err(ApiError::validation(
            "user_id",
            format!("must list 1 to {MAX_BATCH} ids"),
        ));
    }
    let ids = raw_ids
        .iter()
        .enumerate()
        .map(|(index, raw)| ObjectId::parse(&format!("user_id[{index}]"), raw))
        .collect::<Result<Vec<_>, _>>()?;
    let actor = Actor::new(&caller.client_id).with_reason(reason, None);
    state
        .services
        .customers
        .set_active(&caller.application.id, &ids, active, &actor)
        .await?;
    Ok(Json(SUCCESS))
}

#[utoipa::path(
    put,
    path = "/customers/archive",
    operation_id = "archiveUser",
    tag = "customers",
    summary = "Archives a customer (hidden from lists, contacts freed).",
    request_body = ArchiveBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "Done.", body = Success),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn archive(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<ArchiveBody>,
) -> Result<Json<Success>, ApiError> {
    let id = ObjectId::parse(
        "user_id",
        &required_text("user_id", body.user_id.as_deref())?,
    )?;
    let actor = Actor::new(&caller.client_id);
    state
        .services
        .customers
        .archive(&caller.application.id, &id, &actor)
        .await?;
    Ok(Json(SUCCESS))
}

#[utoipa::path(
    put,
    path = "/customers/undelete",
    operation_id = "unDeleteUser",
    tag = "customers",
    summary = "Restores an archived customer, or cancels a pending deletion.",
    request_body = UndeleteBody,
    params(
        crate::openapi::ApplicationPath,
    ),
    responses(
        (status = 200, description = "Done.", body = Success),
        (status = 404, description = "No such customer.", body = ErrorSchema),
        crate::openapi::PlatformErrors,
    )
)]
pub(crate) async fn undelete(
    State(state): State<AppState>,
    caller: Platform,
    JsonBody(body): JsonBody<UndeleteBody>,
) -> Result<Json<Success>, ApiError> {
    let id = ObjectId::parse(
        "user_id",
        &required_text("user_id", body.user_id.as_deref())?,
    )?;
    let reason = required_text("reason", body.reason.as_deref())?;
    let reason_id = required_text("reason_id", body.reason_id.as_deref())?;
    let actor = Actor::new(&caller.client_id).with_reason(reason, Some(reason_id));
    state
        .services
        .customers
        .restore(&caller.application.id, &id, &actor)
        .await?;
    Ok(Json(SUCCESS))
}

/// A trimmed, non-empty string, or `None`.
fn optional_text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

fn required_text(field: &str, value: Option<&str>) -> Result<String, ApiError> {
    let value = optional_text(value).ok_or_else(|| ApiError::required(field))?;
    Ok(validate_text(field, value)?)
}

fn text_field(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    value
        .map(|value| validate_text(field, value))
        .transpose()
        .map_err(ApiError::from)
}

fn email_entries(emails: Vec<EmailIn>) -> Result<Vec<EmailEntry>, ApiError> {
    let entries = emails
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let field = format!("emails[{index}].email");
            let raw = entry.email.ok_or_else(|| ApiError::required(&field))?;
            Ok(EmailEntry {
                email: Email::parse(&field, &raw)?,
                primary: entry.primary.unwrap_or(false),
                verified: entry.verified.unwrap_or(false),
                active: entry.active.unwrap_or(true),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(normalise_contacts("emails", entries)?)
}

fn phone_entries(phones: Vec<PhoneIn>, region: Region) -> Result<Vec<PhoneEntry>, ApiError> {
    let entries = phones
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let field = format!("phone_numbers[{index}].phone");
            let raw = entry.phone.ok_or_else(|| ApiError::required(&field))?;
            let country_code = optional_text(entry.country_code.as_deref())
                .map(|code| {
                    code.trim_start_matches('+').parse::<u16>().map_err(|_| {
                        ApiError::validation(
                            format!("phone_numbers[{index}].country_code"),
                            format!("is not a country code: '{code}'"),
                        )
                    })
                })
                .transpose()?;
            Ok(PhoneEntry {
                phone: Phone::parse(&field, &raw, country_code, region)?,
                primary: entry.primary.unwrap_or(false),
                verified: entry.verified.unwrap_or(false),
                active: entry.active.unwrap_or(true),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(normalise_contacts("phone_numbers", entries)?)
}
