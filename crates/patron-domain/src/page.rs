//! Page-number pagination as Fynd's `PaginationSchema` describes it.

use crate::DomainError;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;
/// Page size when the client sends none.
pub const DEFAULT_PAGE_SIZE: u32 = 10;

/// A validated page request: 1-based page number, size in `1..=MAX_PAGE_SIZE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    number: u32,
    size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl PageRequest {
    /// Parses the raw `page_no` / `page_size` query values (strings, as the SDK sends them).
    pub fn parse(page_no: Option<&str>, page_size: Option<&str>) -> Result<Self, DomainError> {
        let number = parse_positive("page_no", page_no, 1, u32::MAX / MAX_PAGE_SIZE)?;
        let size = parse_positive("page_size", page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
        Ok(Self { number, size })
    }

    /// The 1-based page number.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// Items per page.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Rows to skip before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.number - 1) * u64::from(self.size)
    }

    /// The page descriptor for a result of `item_total` matching items.
    pub fn info(&self, item_total: u64) -> PageInfo {
        PageInfo {
            current: self.number,
            size: self.size,
            item_total,
            has_next: self.offset() + u64::from(self.size) < item_total,
        }
    }
}

fn parse_positive(
    field: &str,
    raw: Option<&str>,
    default: u32,
    max: u32,
) -> Result<u32, DomainError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(value) if (1..=max).contains(&value) => Ok(value),
        Ok(_) | Err(_) if raw.bytes().all(|b| b.is_ascii_digit()) => Err(DomainError::invalid(
            field,
            format!("must be between 1 and {max}, got {raw}"),
        )),
        _ => Err(DomainError::invalid(
            field,
            format!("must be a positive integer, got '{raw}'"),
        )),
    }
}

/// What a list response reports about its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    /// The 1-based page number returned.
    pub current: u32,
    /// The page size used.
    pub size: u32,
    /// How many items match across all pages.
    pub item_total: u64,
    /// Whether a further page holds items.
    pub has_next: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest::default()
        );
        let page = PageRequest::parse(Some("3"), Some("20")).unwrap();
        assert_eq!(page.offset(), 40);
        assert!(PageRequest::parse(Some("0"), None).is_err());
        assert!(PageRequest::parse(None, Some("101")).is_err());
        assert!(PageRequest::parse(None, Some("0")).is_err());
        let err = PageRequest::parse(Some("two"), None).unwrap_err();
        assert!(err.to_string().contains("page_no"));
        assert!(PageRequest::parse(Some("-1"), None).is_err());
    }

    #[test]
    fn has_next_is_exact() {
        let page = PageRequest::parse(Some("2"), Some("10")).unwrap();
        assert!(page.info(21).has_next);
        assert!(!page.info(20).has_next);
        assert!(!page.info(5).has_next);
    }
}
