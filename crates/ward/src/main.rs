//! ward: AI-driven security and privacy engine for healthcare. The command line.

mod admin;
mod bench;
mod config;
mod deid;
mod deid_msg;
mod deid_out;
mod demo;
mod ehr;
mod eval;
mod fraud;
mod inputs;
mod net;
mod output;
mod phish;
mod pipeline;
mod respond;
mod respond_bench;
mod serve;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ward",
    version,
    about = "AI-driven security and privacy engine for healthcare",
    long_about = "ward detects attacks in hospital network and medical-device traffic, watches \
                  EHR access, de-identifies clinical data and keeps AI models honest: one binary, \
                  on your own hardware.",
    after_help = "Examples:\n  ward train net --format unsw-nb15 flows.csv --out net.model\n  \
                  ward detect net --model net.model conn.log --store ward.db\n  \
                  ward eval net --kfold 5 flows.csv\n  ward config example > ward.toml"
)]
struct Cli {
    /// Configuration file (default: ./ward.toml when present).
    #[arg(long, global = true, env = "WARD_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// More log output (-v info, -vv debug). Logs never carry PHI.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a detector model.
    #[command(subcommand)]
    Train(net::TrainCmd),
    /// Run detectors over inputs and emit alerts.
    #[command(subcommand)]
    Detect(net::DetectCmd),
    /// EHR access auditing: find snooping in patient-record access logs.
    #[command(subcommand)]
    Ehr(ehr::EhrCmd),
    /// Measure detection quality on labelled data.
    #[command(subcommand)]
    Eval(net::EvalCmd),
    /// Measure speed and memory.
    #[command(subcommand)]
    Bench(net::BenchCmd),
    /// Parse inputs and print them as ward events (JSON lines), to check a source.
    #[command(subcommand)]
    Parse(net::ParseCmd),
    /// Simulate a hospital (network traffic with labelled attacks).
    #[command(subcommand)]
    Sim(demo::SimCmd),
    /// The whole job on a simulated hospital: simulate, train, detect, store, score against the truth.
    Demo(demo::DemoArgs),
    /// List alerts from the store.
    Alerts(demo::AlertsArgs),
    /// Configuration helpers.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The tamper-evident audit trail: verify the hash chain, list entries.
    #[command(subcommand)]
    Audit(admin::AuditCmd),
    /// Local users and API tokens for `ward serve`.
    #[command(subcommand)]
    User(admin::UserCmd),
    /// Serve the REST API (`/api/v1`) over a store; API tokens come from `ward user token`.
    Serve(serve::ServeArgs),
    /// De-identification of clinical data (in progress: scoring against PhysioNet gold spans).
    #[command(subcommand)]
    Deid(deid::DeidCmd),
    /// Automated response: try playbooks, approve or reject pending steps, see what ran.
    #[command(subcommand)]
    Respond(respond::RespondCmd),
    /// Phishing detection for mail: score messages with reasons.
    #[command(subcommand)]
    Phish(phish::PhishCmd),
    /// Claims fraud and medical identity theft: claim rules and provider risk with reasons.
    #[command(subcommand)]
    Fraud(fraud::FraudCmd),
}

#[derive(Debug, Subcommand)]
enum ConfigCmd {
    /// Print a complete, commented ward.toml with every default.
    Example,
    /// Load the configuration and report whether it is valid.
    Check,
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> Result<()> {
    let cfg = config::Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Train(c) => net::train(c, &cfg),
        Command::Detect(c) => net::detect(c, &cfg),
        Command::Eval(c) => net::eval(c, &cfg),
        Command::Ehr(c) => ehr::run(c, &cfg),
        Command::Bench(c) => net::bench(c, &cfg),
        Command::Parse(c) => net::parse(c, &cfg),
        Command::Sim(c) => demo::sim(c),
        Command::Demo(a) => demo::demo(a, &cfg),
        Command::Alerts(a) => demo::alerts(a, &cfg),
        Command::Audit(c) => admin::audit(c, &cfg),
        Command::User(c) => admin::user(c, &cfg),
        Command::Serve(a) => serve::serve(a, &cfg),
        Command::Respond(c) => respond::run(c, &cfg),
        Command::Deid(c) => deid::run(c),
        Command::Phish(c) => phish::run(c, &cfg),
        Command::Fraud(c) => fraud::run(c, &cfg),
        Command::Config(ConfigCmd::Example) => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
        Command::Config(ConfigCmd::Check) => {
            println!("configuration is valid");
            Ok(())
        }
    }
}
