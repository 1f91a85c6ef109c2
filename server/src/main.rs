//! `stackyard`: serve the console (the default), or run one of its tools.

use app::auth::Role;
use clap::{Parser, Subcommand, ValueEnum};
use stackyard_server::{
    config::{DbArgs, ServeArgs},
    ServerError,
};
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
    /// Manage accounts from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// Check or format a DNS zone file with Stackyard's own parser.
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// Check a layout file against hosts with the paper's equations.
    #[command(subcommand)]
    Layout(LayoutCommand),
    /// Mail tools: the readiness check of a mail domain over live DNS.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Print the console's pages as JSON (path pattern and who may open
    /// it), from the router's own route list: what the browser tests load.
    Routes,
}

#[derive(Debug, Subcommand)]
enum MailCommand {
    /// The readiness check (PTR, forward confirmation, MX, SPF, DKIM, DMARC,
    /// blocklists); exit status 0 only when every check passes.
    Check(stackyard_server::mail_cli::CheckArgs),
}

#[derive(Debug, Subcommand)]
enum LayoutCommand {
    /// Prints each host's verdict and where the VMs go; exit status 0 when
    /// everything fits, 1 when something does not (or a file has problems),
    /// 2 when a file or the database cannot be read.
    Check {
        /// The layout, TOML or JSON.
        file: std::path::PathBuf,
        /// Hosts file (TOML or JSON); without it, the database's hosts as
        /// libvirt reports them now.
        #[arg(long)]
        hosts: Option<std::path::PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum ZoneCommand {
    /// Lists every problem with its line; exit status 0 when the zone is valid, 1 otherwise.
    Check {
        /// The zone's origin, e.g. `anydomain.com`.
        origin: String,
        /// The master file (RFC 1035).
        file: std::path::PathBuf,
    },
    /// Prints the canonical rendering (what Stackyard writes for NSD) on standard output.
    Fmt {
        origin: String,
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input (a hidden
    /// prompt on a terminal), never from the arguments:
    /// `printf '%s\n' "$PASSWORD" | stackyard user add alice --role admin`
    Add {
        /// The account's name: letters, digits, '.', '_' and '-'.
        name: String,
        /// What the account may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    /// Everything, accounts included.
    Admin,
    /// VM lifecycle, applying layouts, editing DNS and mail records.
    Operator,
    /// Read only.
    Viewer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => Role::Admin,
            RoleArg::Operator => Role::Operator,
            RoleArg::Viewer => Role::Viewer,
        }
    }
}

fn init_logging(filter: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(format!("{filter},sqlx=warn,sea_orm=warn"))
        .map_err(|e| format!("invalid --log filter {filter:?}: {e}"))?;
    tracing_subscriber::fmt().with_env_filter(filter).init();
    Ok(())
}

fn serve(runtime: &tokio::runtime::Runtime, args: ServeArgs) -> Result<(), ServerError> {
    init_logging(&args.log).map_err(ServerError::Config)?;
    runtime.block_on(stackyard_server::serve(args))
}

fn zone(command: ZoneCommand) -> ExitCode {
    use stackyard_server::zone_cli;
    let (origin, file, format) = match &command {
        ZoneCommand::Check { origin, file } => (origin, file, false),
        ZoneCommand::Fmt { origin, file } => (origin, file, true),
    };
    let problems = if format {
        match zone_cli::fmt(origin, file) {
            Ok(Ok(text)) => {
                print!("{text}");
                return ExitCode::SUCCESS;
            }
            Ok(Err(problems)) => Ok(problems),
            Err(e) => Err(e),
        }
    } else {
        zone_cli::check(origin, file)
    };
    match problems {
        Ok(problems) if problems.is_empty() => {
            println!("{}: zone {origin} is valid", file.display());
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("stackyard: {e}");
            ExitCode::from(2)
        }
    }
}

fn mail(command: MailCommand) -> ExitCode {
    use stackyard_server::mail_cli;
    let MailCommand::Check(args) = command;
    match mail_cli::run(&args) {
        Ok(report) => {
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(json) => println!("{json}"),
                    Err(e) => {
                        eprintln!("stackyard: {e}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{}", mail_cli::render_text(&report));
            }
            if report.all_passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("stackyard: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The zone and mail tools start no multi-threaded runtime: `zone check`
    // is pure computation (and is timed against nsd-checkzone), and the
    // mail check builds the small runtime it needs itself.
    let command = match cli.command {
        Some(Command::Zone(command)) => return zone(command),
        Some(Command::Mail(command)) => return mail(command),
        other => other,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("stackyard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Some(Command::User(UserCommand::Add { name, role, db })) => init_logging("warn")
            .map_err(ServerError::Config)
            .and_then(|()| {
                stackyard_server::users::read_password().and_then(|password| {
                    runtime
                        .block_on(stackyard_server::users::add(
                            &db,
                            &name,
                            role.into(),
                            &password,
                        ))
                        .map(|created| println!("Created {created} ({}).", Role::from(role)))
                })
            }),
        Some(Command::Zone(command)) => return zone(command),
        Some(Command::Routes) => {
            // Leptos renders the app once to list its routes, and its
            // resources spawn onto the runtime.
            let _runtime = runtime.enter();
            println!("{}", stackyard_server::web::routes_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::Mail(command)) => return mail(command),
        Some(Command::Layout(LayoutCommand::Check {
            file,
            hosts,
            json,
            db,
        })) => {
            use stackyard_server::layout_cli;
            let source = match &hosts {
                Some(path) => layout_cli::Hosts::File(path),
                None => layout_cli::Hosts::Database(&db),
            };
            let out = runtime.block_on(layout_cli::check(&file, source, json));
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            return ExitCode::from(out.code);
        }
        Some(Command::Serve(args)) => serve(&runtime, args),
        None => serve(&runtime, cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("stackyard: {e}");
            ExitCode::FAILURE
        }
    }
}
