//! The command line. Every option can also come from the TOML file or a `CAREBOOK_*`
//! variable; flags win over both (see `settings`).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "carebook",
    version,
    about = "Carebook clinic platform server",
    long_about = "Carebook runs clinics: accounts and roles, clinics, scheduling and a tamper-evident audit trail.\n\nWith no configuration it keeps everything in a SQLite file under ./data; point --database-url (or DATABASE_URL) at postgres://… for production."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Default)]
pub struct GlobalArgs {
    /// TOML configuration file [default: ./carebook.toml when present; env: CAREBOOK_CONFIG]
    #[arg(long, global = true, env = "CAREBOOK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database: postgres://user@host/db or sqlite://path/to/file.db
    /// [default: sqlite://<data-dir>/carebook.db; env: DATABASE_URL or CAREBOOK_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Folder for the SQLite file and the generated signing key [default: ./data; env: CAREBOOK_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format [default: human; env: CAREBOOK_LOG_FORMAT]
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `carebook=debug,sqlx=warn` [default: info,sqlx=warn; env: CAREBOOK_LOG_LEVEL]
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, optionally load demo data, and serve the API (with the worker).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load data.
    Seed(SeedArgs),
    /// Run the background worker alone (when `serve --no-worker` runs elsewhere).
    Worker,
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The background job queue: depth, dead letters, retries.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Print the OpenAPI document (JSON) and exit.
    Openapi,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080; env: CAREBOOK_LISTEN]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Load the demo clinic network first (idempotent).
    #[arg(long)]
    pub demo: bool,
    /// Do not run the background worker in this process.
    #[arg(long)]
    pub no_worker: bool,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Load the demo clinic network: clinics in three time zones, staff of every role and
    /// patients. Running it again changes nothing.
    #[arg(long, required = true)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (the first super admin, typically).
    CreateUser(CreateUserArgs),
}

#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// Sign-in email of the new account.
    #[arg(long)]
    pub email: String,
    /// Full name, as shown to colleagues and in the audit trail.
    #[arg(long)]
    pub name: String,
    /// super_admin, admin, moderator, support, receptionist, provider or pharmacist
    #[arg(long, default_value = "super_admin")]
    pub role: String,
    /// Slug of the account's home clinic.
    #[arg(long)]
    pub clinic: Option<String>,
    /// Read the password from this environment variable instead of standard input.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit trail's hash chain; exits 1 and names the first broken row if any.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Print how many jobs are queued, due, running and dead, and the oldest due job's lag.
    Stats,
    /// List the dead jobs (attempts spent or failed for good), most recent first, with errors.
    Dead {
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue a dead job again, with fresh attempts, to run now.
    Retry {
        /// The job's id, as `jobs dead` prints it.
        id: uuid::Uuid,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_option_and_command_explains_itself() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && !arg.is_positional() {
                    missing.push(format!("{path} --{}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() {
                    missing.push(format!("{path} {}", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = vec![];
        walk(&Cli::command(), "carebook", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }

    #[test]
    fn serve_parses_with_global_options() {
        let cli = Cli::try_parse_from([
            "carebook",
            "serve",
            "--demo",
            "--listen",
            "0.0.0.0:9000",
            "--database-url",
            "sqlite://x.db",
        ])
        .unwrap();
        assert_eq!(cli.global.database_url.as_deref(), Some("sqlite://x.db"));
        match cli.command {
            Command::Serve(s) => {
                assert!(s.demo);
                assert_eq!(s.listen.as_deref(), Some("0.0.0.0:9000"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            Cli::try_parse_from(["carebook", "seed"]).is_err(),
            "seed needs --demo"
        );
        assert!(Cli::try_parse_from(["carebook", "audit", "verify"]).is_ok());
        assert!(
            Cli::try_parse_from([
                "carebook",
                "admin",
                "create-user",
                "--email",
                "a@b.io",
                "--name",
                "A"
            ])
            .is_ok()
        );
    }
}
