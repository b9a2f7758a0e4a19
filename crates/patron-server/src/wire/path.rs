//! The typed path parameters of routes: each id is parsed where the request is read (a
//! malformed one is a 400 naming it, in Fynd's shape, through
//! [`PathParams`](crate::extract::PathParams)), and described in the OpenAPI document by
//! the same struct.

use patron_domain::ids::ObjectId;
use serde::Deserialize;
use utoipa::IntoParams;

/// `company_id` and `application_id`, the path parameters of every platform operation, as
/// sent: the [`Platform`](crate::platform::Platform) guard parses them in its own order
/// (the company is compared with the token's before the application id is read).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ApplicationPath {
    /// The company's numeric id.
    pub(crate) company_id: String,
    /// The application's 24-hex id.
    pub(crate) application_id: String,
}

/// The company of the token endpoint, as sent (parsed once the client's credentials are
/// checked).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct CompanyPath {
    /// The company's numeric id.
    pub(crate) company_id: String,
}

/// A customer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct UserPath {
    /// The customer's 24-hex id.
    #[param(value_type = String)]
    pub(crate) user_id: ObjectId,
}

/// An attribute definition.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct DefinitionPath {
    /// The definition's 24-hex id.
    #[param(value_type = String)]
    pub(crate) attribute_def_id: ObjectId,
}

/// A customer's value of an attribute definition.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct DefinitionUserPath {
    /// The definition's 24-hex id.
    #[param(value_type = String)]
    pub(crate) attribute_def_id: ObjectId,
    /// The customer's 24-hex id.
    #[param(value_type = String)]
    pub(crate) user_id: ObjectId,
}

/// An attribute value by its own id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ValuePath {
    /// The value's 24-hex id.
    #[param(value_type = String)]
    pub(crate) attribute_id: ObjectId,
}

/// A customer group.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct GroupPath {
    /// The group's 24-hex id.
    #[param(value_type = String)]
    pub(crate) group_id: ObjectId,
}

/// A background job.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct JobPath {
    /// The job's 24-hex id.
    #[param(value_type = String)]
    pub(crate) job_id: ObjectId,
}

/// An exported file's job, named with its application, as sent: the signed link is the
/// credential, so its parts are checked before the ids are read.
#[derive(Debug, Deserialize)]
pub(crate) struct JobFilePath {
    /// The application's 24-hex id.
    pub(crate) application_id: String,
    /// The job's 24-hex id.
    pub(crate) job_id: String,
}

/// The kind of contact a storefront route addresses.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct EntityPath {
    /// `mobile` or `email`.
    pub(crate) entity: String,
}
