use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<ConfigFile, FileError> {
    ConfigFile::parse(text, Path::new("sls-emu.toml"))
}

#[test]
fn the_example_in_the_repository_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sls-emu.example.toml");
    let f = ConfigFile::load(&path).unwrap();
    assert!(!f.credentials.is_empty());
    assert!(!f.projects.is_empty());
    let index = f.projects[0].logstores[0].index.as_ref().unwrap();
    assert_eq!(index["keys"]["status"]["type"], "long");
    assert_eq!(index["index_mode"], "v2");
}

#[test]
fn keys_policies_sts_and_resources() {
    let f = parse(
        r#"
account_id = "1234"

[policy.reader]
document = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"log:Get*","Resource":"*"}]}'

[[access_key]]
id = "admin"
secret = "s1"
full_access = true

[[access_key]]
id = "reader"
secret = "s2"
policies = ["reader"]

[[sts_token]]
access_key_id = "STS.tmp"
access_key_secret = "s3"
security_token = "tok"
expiration = 2030-01-01T00:00:00Z
policies = ["reader"]

[[project]]
name = "demo"
[[project.logstore]]
name = "app"
shards = 4
[[project.logstore.consumer_group]]
name = "cg"
timeout = 20
"#,
    )
    .unwrap();
    assert_eq!(f.account_id.as_deref(), Some("1234"));
    let ids: Vec<&str> = f
        .credentials
        .iter()
        .map(|c| c.access_key_id.as_str())
        .collect();
    assert_eq!(ids, ["admin", "reader", "STS.tmp"]);
    assert!(f.credentials[0].full_access);
    assert_eq!(
        f.credentials[1].policies.keys().collect::<Vec<_>>(),
        ["reader"]
    );
    assert_eq!(f.credentials[2].security_token.as_deref(), Some("tok"));
    assert_eq!(f.credentials[2].expires_secs, Some(1_893_456_000));
    let ls = &f.projects[0].logstores[0];
    assert_eq!((ls.shards, ls.ttl), (4, 30));
    assert_eq!(ls.consumer_groups[0].timeout, 20);
}

#[test]
fn mistakes_name_their_line() {
    for (text, line, says) in [
        ("account_id = 1\n", 1, "string"),
        ("\n\n[[access_key]]\nid = \"a\"\nsecret = \"b\"\nfull_acess = true\n", 6, "unknown field"),
        ("[[access_key]]\nid = \"a\"\nsecret = \"b\"\n", 1, "no rights"),
        ("[[access_key]]\nid = \"a\"\nsecret = \"b\"\npolicies = [\"nope\"]\n", 4, "no [policy.nope]"),
        (
            "[policy.p]\ndocument = '{\"Version\":\"1\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}'\n",
            2,
            "policy p",
        ),
        ("[[project]]\nname = \"Bad_Name\"\n", 2, "project name"),
        ("[[project]]\nname = \"okay\"\n[[project.logstore]]\nname = \"ls\"\nshards = 0\n", 5, "shards"),
        (
            "[[sts_token]]\naccess_key_id = \"a\"\naccess_key_secret = \"b\"\nsecurity_token = \"t\"\nexpiration = \"tomorrow\"\n",
            5,
            "RFC 3339",
        ),
        (
            "[[access_key]]\nid = \"a\"\nsecret = \"b\"\nfull_access = true\n[[access_key]]\nid = \"a\"\nsecret = \"c\"\nfull_access = true\n",
            6,
            "defined twice",
        ),
        ("[[project]\nname = \"x\"\n", 1, ""),
        (
            "[[project]]\nname = \"okay\"\n[[project.logstore]]\nname = \"ls\"\nindex = '{\"keys\": {\"a\": {\"type\": \"blob\"}}}'\n",
            5,
            "index",
        ),
    ] {
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, line, "{text:?}: {e}");
        assert!(e.message.contains(says), "{text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("sls-emu.toml:{line}: ")), "{e}");
    }
}
