//! `stackyard`: serve the console (the default), or run one of its tools.

use clap::{Parser, Subcommand};
use stackyard_server::config::ServeArgs;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "stackyard",
    version,
    about = "Stackyard: a web console for a small organisation's virtual machines, DNS and mail",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web console (the default when no command is given).
    Serve(ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
    };
    let filter = match EnvFilter::try_new(format!("{},sqlx=warn,sea_orm=warn", args.log)) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("stackyard: invalid --log filter {:?}: {e}", args.log);
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("stackyard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(stackyard_server::serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("stackyard: {e}");
            ExitCode::FAILURE
        }
    }
}
