//! The conformance suite against an in-process emulator, once signing with V1 and once with V4,
//! every group except [`PENDING_GROUPS`]. Any failing case fails the test, which prints the
//! Markdown report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sls_conformance::{run, Outcome, RunOptions, Selection, SignVersion, Target, PENDING_GROUPS};
use sls_emulator::testing::TestServer;

async fn run_suite(version: SignVersion) {
    let server = TestServer::start().await.expect("emulator starts");
    let config = server.config();
    let target = Target::new(
        &server.endpoint(),
        config.access_key_id.clone(),
        config.access_key_secret.clone(),
    )
    .unwrap()
    .with_sign_version(version)
    .with_connect_to(server.addr());
    let mut options = RunOptions::new(target);
    options.selection = Selection::all().skipping(PENDING_GROUPS);
    let report = run(&options).await.expect("the suite runs");

    assert!(
        !report.has_failures(),
        "conformance failures against the emulator ({}):\n\n{}",
        version.as_str(),
        report.to_markdown()
    );
    assert!(
        report.cleanup_warnings.is_empty(),
        "cleanup warnings: {:?}",
        report.cleanup_warnings
    );
    // Nothing outside the pending groups may be skipped except by its own decision, and no
    // pending case may pass without running.
    for case in &report.cases {
        let pending = PENDING_GROUPS.contains(&case.group);
        match &case.outcome {
            Outcome::Pass => assert!(!pending, "{} passed without running", case.id),
            Outcome::Skip { reason } if !pending => assert!(
                case.id == "errors.internal-server-error",
                "{} skipped: {reason}",
                case.id
            ),
            _ => {}
        }
    }
    assert!(report.summary.passed > 50, "{:?}", report.summary);
}

#[tokio::test]
async fn emulator_conforms_signing_v1() {
    run_suite(SignVersion::V1).await;
}

#[tokio::test]
async fn emulator_conforms_signing_v4() {
    run_suite(SignVersion::V4).await;
}
