//! Injected SLS errors look on the wire exactly like the emulator's own errors.

use serde_json::json;
use sls_emulator::faults::{Action, Api, Matcher, Rule, When};
use sls_emulator::testing::TestServer;

use crate::support::{Client, Req};

const P: &str = "fault-test";

fn rule(id: &str, action: Action) -> Rule {
    Rule {
        id: id.into(),
        matcher: Matcher {
            api: Some(Api::Metadata),
            project: Some(P.into()),
            ..Matcher::default()
        },
        when: When::Nth(1),
        action,
        times: None,
    }
}

#[tokio::test]
async fn injected_errors_have_the_sls_error_shape() {
    let server = TestServer::start().await.unwrap();
    let c = Client::new(&server);
    c.send(Req::new("POST", Some(P), "/").json(json!({"projectName": P})))
        .await
        .assert_ok();

    // Any status and code, before the handler: nothing executed.
    server
        .faults()
        .add(rule(
            "busy",
            Action::Error {
                status: 503,
                code: "ServerBusy".into(),
                message: Some("try later".into()),
            },
        ))
        .unwrap();
    let r = c
        .send(Req::new("PUT", Some(P), "/").json(json!({"description": "changed"})))
        .await;
    r.assert_case_error("injected error", 503, "ServerBusy");
    assert_eq!(
        r.json(),
        json!({"errorCode": "ServerBusy", "errorMessage": "try later"})
    );
    let project = c.send(Req::new("GET", Some(P), "/")).await;
    project.assert_ok();
    assert_ne!(project.json()["description"], "changed");
    server.faults().clear();

    // After commit: the change is made, the answer is a 500.
    server
        .faults()
        .add(rule("lost", Action::CommitThenError))
        .unwrap();
    let r = c
        .send(Req::new("PUT", Some(P), "/").json(json!({"description": "changed"})))
        .await;
    r.assert_case_error("error after commit", 500, "InternalServerError");
    assert_eq!(
        r.json(),
        json!({"errorCode": "InternalServerError", "errorMessage": "fault injected after commit"})
    );
    let project = c.send(Req::new("GET", Some(P), "/")).await;
    project.assert_ok();
    assert_eq!(project.json()["description"], "changed");
}
