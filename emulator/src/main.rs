//! `sls-emulator`: parse the configuration, set up logging, serve until Ctrl-C or SIGTERM.

use clap::Parser;
use sls_emulator::{Config, Emulator};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sls-emulator: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    print_banner(&emulator);
    emulator.run_until(stop_signal()).await;
    std::process::ExitCode::SUCCESS
}

fn print_banner(e: &Emulator) {
    let c = e.config();
    let addrs: Vec<String> = e.addrs().iter().map(|a| a.to_string()).collect();
    let endpoint = e.endpoint();
    println!("sls-emu is listening on {}", addrs.join(", "));
    println!(
        "  data folder:       {} (durability: {:?})",
        c.data_dir.display(),
        c.durability
    );
    println!("  endpoint:          {endpoint}   (projects are addressed as <project>.{endpoint})");
    println!("  access key id:     {}", c.access_key_id);
    println!(
        "  access key secret: {}   (signatures: {:?})",
        c.access_key_secret, c.auth
    );
    println!(
        "  Python:  LogClient(\"{endpoint}\", \"{}\", \"{}\")",
        c.access_key_id, c.access_key_secret
    );
    println!(
        "  Rust:    Config::builder().endpoint(\"{endpoint}\").access_key(\"{}\", \"{}\")",
        c.access_key_id, c.access_key_secret
    );
    println!("  *.localhost must resolve to loopback (Debian: apt-get install libnss-myhostname),");
    println!(
        "  or set HTTP_PROXY=http://127.0.0.1:{} for clients that honour it.",
        e.port()
    );
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
