//! The `conformance` binary: parses the flags, runs the suite, prints one line per case and a
//! summary, writes the JSON/Markdown reports, and exits 1 when any case failed (2 when the
//! suite itself could not run). Everything else is the library.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use sls_conformance::{registry, run, Group, RunOptions, Selection, SignVersion, Target};

/// Checks whether an endpoint behaves like Alibaba Cloud Simple Log Service (SLS).
#[derive(Debug, Parser)]
#[command(name = "conformance", version)]
struct Cli {
    /// SLS endpoint: a host, host:port, or either with http:// or https:// in front
    /// (e.g. localhost:18080, or cn-hangzhou.log.aliyuncs.com with https:// in front).
    #[arg(
        long,
        env = "SLS_CONFORMANCE_ENDPOINT",
        required_unless_present = "list"
    )]
    endpoint: Option<String>,

    /// AccessKeyId to sign with.
    #[arg(
        long,
        env = "SLS_CONFORMANCE_ACCESS_KEY_ID",
        required_unless_present = "list"
    )]
    access_key_id: Option<String>,

    /// AccessKeySecret to sign with.
    #[arg(
        long,
        env = "SLS_CONFORMANCE_ACCESS_KEY_SECRET",
        hide_env_values = true,
        required_unless_present = "list"
    )]
    access_key_secret: Option<String>,

    /// Existing project to run in; it is left in place and only the run's own logstores are
    /// deleted. Without it the run creates a fresh project and deletes it afterwards.
    #[arg(long, env = "SLS_CONFORMANCE_PROJECT")]
    project: Option<String>,

    /// Signature of ordinary requests: v1 or v4 (signature cases use both).
    #[arg(long, default_value = "v1")]
    sign: SignVersion,

    /// Region of V4 signatures.
    #[arg(long, env = "SLS_CONFORMANCE_REGION", default_value = "cn-hangzhou")]
    region: String,

    /// Send every connection to this address (ip:port) whatever the host name, so that
    /// PROJECT.ENDPOINT host names need no DNS. The endpoint's own port wins when it has one.
    #[arg(long)]
    connect_to: Option<SocketAddr>,

    /// Only these groups (comma-separated), e.g. put,pull.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<Group>,

    /// Skip these groups (comma-separated), e.g. split_merge,consumer_groups,checkpoints.
    #[arg(long, value_delimiter = ',')]
    skip_groups: Vec<Group>,

    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,

    /// Write the Markdown report here.
    #[arg(long)]
    markdown: Option<PathBuf>,

    /// Seconds to keep polling for eventually consistent effects (a new project or logstore
    /// becoming usable, a deleted one disappearing). Polling stops at the first good answer.
    #[arg(long, default_value_t = 30)]
    settle_secs: u64,

    /// List the cases (id, group, behaviour, source) and exit.
    #[arg(long)]
    list: bool,
}

fn list_cases(out: &mut impl std::io::Write) -> std::io::Result<()> {
    for case in registry() {
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            case.id, case.group, case.checks, case.source
        )?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr();
    if cli.list {
        return match list_cases(&mut stdout) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(2),
        };
    }
    let (Some(endpoint), Some(ak), Some(secret)) =
        (cli.endpoint, cli.access_key_id, cli.access_key_secret)
    else {
        let _ = writeln!(
            stderr,
            "conformance: --endpoint, --access-key-id and --access-key-secret are required"
        );
        return ExitCode::from(2);
    };
    let target = match Target::new(&endpoint, ak, secret) {
        Ok(t) => t.with_sign_version(cli.sign).with_region(cli.region),
        Err(e) => {
            let _ = writeln!(stderr, "conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let target = match cli.connect_to {
        Some(addr) => target.with_connect_to(addr),
        None => target,
    };
    let selection = if cli.groups.is_empty() {
        Selection::all()
    } else {
        Selection::only(&cli.groups)
    }
    .skipping(&cli.skip_groups);
    let options = RunOptions {
        target,
        project: cli.project,
        selection,
        settle: Duration::from_secs(cli.settle_secs),
    };
    let report = match run(&options).await {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(stderr, "conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let _ = write!(stdout, "{}", report.to_terminal());
    let mut code = if report.has_failures() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    };
    let writes = [
        cli.json.as_ref().map(|p| report.write_json(p)),
        cli.markdown.as_ref().map(|p| report.write_markdown(p)),
    ];
    for result in writes.into_iter().flatten() {
        if let Err(e) = result {
            let _ = writeln!(stderr, "conformance: {e}");
            code = ExitCode::from(2);
        }
    }
    code
}
