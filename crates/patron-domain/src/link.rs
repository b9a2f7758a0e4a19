//! Where links to customers point: only to a configured base URL, `https` unless the host is
//! a loopback address (local development), never to a host a request named.

use std::net::IpAddr;

use crate::DomainError;

/// A web origin as browsers send it in `Origin`: `scheme://host[:port]`, lower case,
/// without a default port (`:443` for https, `:80` for http), path or trailing `/`; `None`
/// for anything else (including `null`).
pub fn canonical_origin(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = text.split_once("://")?;
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if authority.is_empty() || !authority.chars().all(valid) {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    Some(format!("{scheme}://{authority}"))
}

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

    #[test]
    fn origins_are_compared_in_the_form_browsers_send() {
        for (given, expected) in [
            ("https://Shop.Example.com", Some("https://shop.example.com")),
            (
                "https://shop.example.com:443/",
                Some("https://shop.example.com"),
            ),
            ("http://localhost:3000", Some("http://localhost:3000")),
            (
                "https://shop.example.com:8443",
                Some("https://shop.example.com:8443"),
            ),
            ("http://[::1]:8080", Some("http://[::1]:8080")),
            ("null", None),
            ("https://shop.example.com/path", None),
            ("https://user@shop.example.com", None),
            ("ftp://shop.example.com", None),
            ("https://", None),
        ] {
            assert_eq!(canonical_origin(given).as_deref(), expected, "{given}");
        }
    }
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
