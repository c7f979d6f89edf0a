//! The conformance suite against an in-process emulator, once signing with V1 and once with V4,
//! every group. Any failing or skipped case fails the test, which prints the Markdown report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sls_conformance::{run, Outcome, RunOptions, SignVersion, Target};
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
    let options = RunOptions::new(target);
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
    // Every group runs against the emulator: a skipped case proved nothing.
    for case in &report.cases {
        if let Outcome::Skip { reason } = &case.outcome {
            panic!("{} skipped: {reason}", case.id);
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
