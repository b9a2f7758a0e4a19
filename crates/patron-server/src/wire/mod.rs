//! Fynd's wire shapes (serde renames, omitted rather than null), kept apart from the domain
//! types they carry.

pub(crate) mod attribute;
pub(crate) mod auth_config;
pub(crate) mod contacts;
pub(crate) mod customer;
pub(crate) mod group;
pub(crate) mod job;
pub(crate) mod otp;
pub(crate) mod page;
pub(crate) mod password;
pub(crate) mod path;
pub(crate) mod profile;
pub(crate) mod register;
pub(crate) mod reset;
pub(crate) mod session;
pub(crate) mod social;
pub(crate) mod storefront;
pub(crate) mod token;

use patron_domain::page::PageInfo;
use serde::Serialize;

use self::page::PageOut;

/// `{"success": true}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Success {
    success: bool,
}

/// The plain success answer.
pub(crate) const SUCCESS: Success = Success { success: true };

/// `{"success": "true"}`: the seed types this `success` as a string.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SuccessText {
    success: &'static str,
}

/// The success answer whose flag the seed types as a string.
pub(crate) const SUCCESS_TEXT: SuccessText = SuccessText { success: "true" };

/// `{"status": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Status {
    /// What happened.
    pub(crate) status: &'static str,
}

/// One page of a list: `{"items": […], "page": PaginationSchema}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Paged<T> {
    items: Vec<T>,
    page: PageOut,
}

impl<T> Paged<T> {
    /// `items` as the page `info` describes.
    pub(crate) fn new(items: Vec<T>, info: PageInfo) -> Self {
        Self {
            items,
            page: info.into(),
        }
    }
}
