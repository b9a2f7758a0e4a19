//! Fynd's wire shapes (serde renames, omitted rather than null), kept apart from the domain
//! types they carry.

pub(crate) mod attribute;
pub(crate) mod auth_config;
pub(crate) mod customer;
pub(crate) mod group;
pub(crate) mod page;
