//! Which project a request addresses: the label in front of the endpoint host
//! (SLS-API.md §2.3, clients/REPORT.md §1.2).

use std::net::IpAddr;

/// Strips `:port` (and IPv6 brackets) and lower-cases the host part of an authority.
pub fn host_without_port(authority: &str) -> String {
    let a = authority.trim();
    let host = if let Some(rest) = a.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if a.matches(':').count() == 1 {
        a.split(':').next().unwrap_or(a)
    } else {
        a
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The project named by `authority`, if any.
///
/// Rules: strip the port; an IP literal, `localhost` or a configured endpoint domain carries
/// no project; `<label>.<configured domain>` carries `<label>`; otherwise a host of two or more
/// labels carries its first label (`proj.127.0.0.1` is not an IP literal).
pub fn project_from_host(authority: &str, endpoint_domains: &[String]) -> Option<String> {
    let host = host_without_port(authority);
    if host.is_empty() || host.parse::<IpAddr>().is_ok() || host == "localhost" {
        return None;
    }
    for d in endpoint_domains {
        let d = d.to_ascii_lowercase();
        if host == d {
            return None;
        }
        if let Some(label) = host.strip_suffix(&d).and_then(|p| p.strip_suffix('.')) {
            return Some(label.to_string());
        }
    }
    let (first, rest) = host.split_once('.')?;
    if first.is_empty() || rest.is_empty() {
        return None;
    }
    Some(first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(h: &str) -> Option<String> {
        project_from_host(h, &["localhost".to_string(), "sls.local".to_string()])
    }

    #[test]
    fn hosts_seen_in_captures() {
        assert_eq!(p("proj.localhost:18080").as_deref(), Some("proj"));
        assert_eq!(p("proj.localhost").as_deref(), Some("proj"));
        assert_eq!(p("proj.127.0.0.1").as_deref(), Some("proj"));
        assert_eq!(p("proj.sls.local").as_deref(), Some("proj"));
        assert_eq!(p("proj.sls.test:18080").as_deref(), Some("proj"));
        assert_eq!(p("Proj.LocalHost").as_deref(), Some("proj"));
        assert_eq!(p("localhost:18080"), None);
        assert_eq!(p("127.0.0.1"), None);
        assert_eq!(p("127.0.0.1:80"), None);
        assert_eq!(p("[::1]:18080"), None);
        assert_eq!(p("sls.local"), None);
        assert_eq!(p("myhost"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn a_dotted_label_before_the_domain_is_kept_whole() {
        // `a.b.sls.local` names project `a.b`, which then fails name validation.
        assert_eq!(p("a.b.sls.local").as_deref(), Some("a.b"));
    }
}
