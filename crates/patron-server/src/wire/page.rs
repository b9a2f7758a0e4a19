//! `PaginationSchema`.

use patron_domain::page::PageInfo;
use serde::Serialize;

/// The `page` object of list responses.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = PaginationSchema)]
pub(crate) struct PageOut {
    #[serde(rename = "type")]
    kind: &'static str,
    current: u32,
    size: u32,
    item_total: u64,
    has_next: bool,
}

impl From<PageInfo> for PageOut {
    fn from(info: PageInfo) -> Self {
        Self {
            kind: "number",
            current: info.current,
            size: info.size,
            item_total: info.item_total,
            has_next: info.has_next,
        }
    }
}
