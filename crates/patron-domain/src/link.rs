//! Where links to customers point: only to a configured base URL, `https` unless the host is
//! a loopback address (local development), never to a host a request named.

use std::net::IpAddr;

use crate::DomainError;

/// Checks that `url` may be a base for customer links: `https://host…`, or `http://` to
/// `localhost` or a loopback address. `field` names it in the error.
pub fn check_link_base(field: &str, url: &str) -> Result<(), DomainError> {
    let fail = |why: &str| Err(DomainError::invalid(field, format!("{why}: '{url}'")));
    let (secure, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return fail("must be an https:// URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return fail("must name a host, without credentials");
    }
    if !secure && !is_loopback(host_of(authority)) {
        return fail("must be https:// (plain http:// only for localhost and loopback)");
    }
    Ok(())
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`).
fn host_of(authority: &str) -> &str {
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for ok in [
            "https://shop.example.com/auth/set-password",
            "https://shop.example.com",
            "http://localhost:8080",
            "http://127.0.0.1:8080/reset",
            "http://[::1]:8080",
        ] {
            assert!(check_link_base("url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://shop.example.com/reset",
            "http://10.0.0.1",
            "ftp://shop.example.com",
            "https://",
            "https://user:pw@shop.example.com",
            "shop.example.com",
            "http://127.0.0.1.evil.example",
        ] {
            assert!(check_link_base("url", bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(url in "\\PC{0,80}") {
            let _ = check_link_base("url", &url);
        }
    }
}
