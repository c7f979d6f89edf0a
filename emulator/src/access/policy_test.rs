use std::net::IpAddr;

use proptest::prelude::*;

use super::*;

fn req<'a>(action: &'a str, resource: &'a str) -> Request<'a> {
    Request {
        action,
        resource,
        source_ip: None,
        now_secs: 1_700_000_000,
    }
}

fn policy(effect: &str, action: &str, resource: &str) -> Policy {
    Policy::parse_json(&format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"{effect}","Action":{action},"Resource":{resource}}}]}}"#
    ))
    .unwrap()
}

const LS: &str = "acs:log:cn-hangzhou:1000000000000000:project/p1/logstore/ls1";

#[test]
fn no_policy_means_no_access() {
    assert_eq!(
        evaluate([], &req("log:GetCursorOrData", LS)),
        Verdict::ImplicitDeny
    );
}

#[test]
fn allow_matches_exact_action_and_resource_only() {
    let p = policy("Allow", r#""log:GetCursorOrData""#, &format!("{LS:?}"));
    assert_eq!(
        evaluate([&p], &req("log:GetCursorOrData", LS)),
        Verdict::Allow
    );
    assert_eq!(
        evaluate([&p], &req("log:ListShards", LS)),
        Verdict::ImplicitDeny
    );
    assert_eq!(
        evaluate([&p], &req("log:GetCursorOrData", &format!("{LS}2"))),
        Verdict::ImplicitDeny
    );
}

#[test]
fn actions_ignore_case_resources_do_not() {
    let p = policy(
        "Allow",
        r#""LOG:getcursorordata""#,
        r#""acs:log:*:*:project/p1/*""#,
    );
    assert_eq!(
        evaluate([&p], &req("log:GetCursorOrData", LS)),
        Verdict::Allow
    );
    let upper = "acs:log:cn-hangzhou:1:project/P1/logstore/ls1";
    assert_eq!(
        evaluate([&p], &req("log:GetCursorOrData", upper)),
        Verdict::ImplicitDeny
    );
}

#[test]
fn wildcards_in_actions_and_resources() {
    let p = policy(
        "Allow",
        r#"["log:Get*", "log:List?hards"]"#,
        r#"["acs:log:*:*:project/p1/logstore/ls?"]"#,
    );
    assert_eq!(
        evaluate([&p], &req("log:GetCursorOrData", LS)),
        Verdict::Allow
    );
    assert_eq!(evaluate([&p], &req("log:ListShards", LS)), Verdict::Allow);
    assert_eq!(
        evaluate([&p], &req("log:PostLogStoreLogs", LS)),
        Verdict::ImplicitDeny
    );
    let two_chars = "acs:log:cn-hangzhou:1:project/p1/logstore/ls12";
    assert_eq!(
        evaluate([&p], &req("log:ListShards", two_chars)),
        Verdict::ImplicitDeny
    );
}

#[test]
fn deny_wins_across_policies() {
    let allow = policy("Allow", r#""log:*""#, r#""*""#);
    let deny = policy(
        "Deny",
        r#""log:PostLogStoreLogs""#,
        r#""acs:log:*:*:project/p1/*""#,
    );
    assert_eq!(
        evaluate([&allow, &deny], &req("log:PostLogStoreLogs", LS)),
        Verdict::ExplicitDeny
    );
    assert_eq!(
        evaluate([&deny, &allow], &req("log:PostLogStoreLogs", LS)),
        Verdict::ExplicitDeny
    );
    assert_eq!(
        evaluate([&allow, &deny], &req("log:ListShards", LS)),
        Verdict::Allow
    );
}

#[test]
fn not_action_applies_to_every_other_action() {
    let p = policy("Allow", r#""*""#, r#""*""#);
    let deny = Policy::parse_json(
        r#"{"Version":"1","Statement":[{"Effect":"Deny","NotAction":["log:Get*","log:List*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    assert_eq!(
        evaluate([&p, &deny], &req("log:GetCursorOrData", LS)),
        Verdict::Allow
    );
    assert_eq!(
        evaluate([&p, &deny], &req("log:DeleteLogStore", LS)),
        Verdict::ExplicitDeny
    );
}

#[test]
fn source_ip_and_time_conditions() {
    let p = Policy::parse_json(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"log:*","Resource":"*",
            "Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","127.0.0.1"]},
                         "DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#,
    )
    .unwrap();
    let mut r = req("log:ListShards", LS);
    assert_eq!(
        evaluate([&p], &r),
        Verdict::ImplicitDeny,
        "no address known"
    );
    r.source_ip = Some("127.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(evaluate([&p], &r), Verdict::Allow);
    r.source_ip = Some("::ffff:10.1.2.3".parse::<IpAddr>().unwrap());
    assert_eq!(
        evaluate([&p], &r),
        Verdict::Allow,
        "IPv4-mapped IPv6 compares as IPv4"
    );
    r.source_ip = Some("192.168.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(evaluate([&p], &r), Verdict::ImplicitDeny);
    r.source_ip = Some("127.0.0.1".parse::<IpAddr>().unwrap());
    r.now_secs = 1_900_000_000;
    assert_eq!(evaluate([&p], &r), Verdict::ImplicitDeny, "after the date");
}

#[test]
fn what_cannot_be_honoured_is_refused_at_load() {
    for (doc, says) in [
        (r#"{"Version":"2","Statement":[]}"#, "Version"),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            "exactly one of Action and NotAction",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#,
            "at least one",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
            "Maybe",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotResource":"*"}]}"#,
            "NotResource",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"acs:SourceVpc":"vpc-1"}}}]}"#,
            "acs:SourceVpc is not emulated",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"not-an-ip"}}}]}"#,
            "not an IP",
        ),
    ] {
        let e = Policy::parse_json(doc).unwrap_err();
        assert!(e.0.contains(says), "{doc}: {e}");
    }
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}"
}

/// A pattern derived from `s`: itself, a prefix with `*`, or one character replaced by `?`.
fn pattern_of(s: String) -> impl Strategy<Value = String> {
    let n = s.len();
    prop_oneof![
        Just(s.clone()),
        (0..=n).prop_map({
            let s = s.clone();
            move |i| format!("{}*", &s[..i])
        }),
        (0..n.max(1)).prop_map(move |i| {
            let mut b = s.clone().into_bytes();
            if let Some(c) = b.get_mut(i) {
                *c = b'?';
            }
            String::from_utf8(b).unwrap_or_default()
        }),
    ]
}

proptest! {
    /// With no policy, or only statements for other actions, every request is refused.
    #[test]
    fn no_matching_policy_means_no_access(action in name(), project in name(), other in name()) {
        let ram = format!("log:{action}");
        let res = format!("acs:log:cn-hangzhou:1:project/{project}");
        prop_assert_eq!(evaluate([], &req(&ram, &res)), Verdict::ImplicitDeny);
        prop_assume!(!other.eq_ignore_ascii_case(&action));
        let p = policy("Allow", &format!("\"log:{other}\""), r#""*""#);
        prop_assert_eq!(evaluate([&p], &req(&ram, &res)), Verdict::ImplicitDeny);
    }

    /// A Deny that matches refuses, whatever Allows are attached and in whatever order.
    #[test]
    fn deny_overrides_any_allow(action in name(), project in name(), shuffle in any::<bool>()) {
        let ram = format!("log:{action}");
        let res = format!("acs:log:cn-hangzhou:1:project/{project}");
        let allow = policy("Allow", r#""*""#, r#""*""#);
        let deny = policy("Deny", &format!("{ram:?}"), &format!("{res:?}"));
        let list = if shuffle { vec![&allow, &deny] } else { vec![&deny, &allow] };
        prop_assert_eq!(evaluate(list, &req(&ram, &res)), Verdict::ExplicitDeny);
    }

    /// A pattern derived from a name matches it; the verdict follows the pattern match exactly.
    #[test]
    fn derived_wildcards_match(
        (action, pat) in name().prop_flat_map(|a| (Just(a.clone()), pattern_of(a))),
        (project, rpat) in name().prop_flat_map(|p| (Just(p.clone()), pattern_of(p))),
    ) {
        let p = policy(
            "Allow",
            &format!("\"log:{pat}\""),
            &format!("\"acs:log:*:*:project/{rpat}\""),
        );
        let res = format!("acs:log:cn-hangzhou:1:project/{project}");
        prop_assert_eq!(evaluate([&p], &req(&format!("log:{action}"), &res)), Verdict::Allow);
    }

    /// Patterns without wildcards match only themselves; with no matching statement the
    /// request is refused.
    #[test]
    fn literal_patterns_match_only_themselves(a in name(), b in name()) {
        let p = policy("Allow", &format!("\"log:{a}\""), r#""*""#);
        let verdict = evaluate([&p], &req(&format!("log:{b}"), LS));
        prop_assert_eq!(verdict == Verdict::Allow, a.eq_ignore_ascii_case(&b));
    }

    /// The documents a policy is built from come back unchanged (what the admin API shows).
    #[test]
    fn documents_round_trip(action in name(), deny in any::<bool>()) {
        let doc = format!(
            r#"{{"Version":"1","Statement":[{{"Effect":"{}","Action":["log:{action}"],"Resource":"*"}}]}}"#,
            if deny { "Deny" } else { "Allow" }
        );
        let p = Policy::parse_json(&doc).unwrap();
        let again = Policy::from_document(p.document().clone()).unwrap();
        prop_assert_eq!(again.document(), p.document());
    }
}
