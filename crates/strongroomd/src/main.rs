//! `strongroomd`: the Strongroom appliance.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use strongroomd::{Appliance, Channel, Config, LocalTerminal, Role, Session};

#[derive(Parser)]
#[command(
    name = "strongroomd",
    version,
    about = "The Strongroom network HSM appliance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance with a configuration file.
    Run {
        /// The TOML configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Open the appliance shell on this terminal as the `admin` appliance user (the local
    /// console). Attaches to the running appliance, or opens the module itself when none runs.
    Console {
        /// The appliance's data directory (the one given as `data_dir` in its configuration).
        #[arg(long, required_unless_present = "config", conflicts_with = "config")]
        dir: Option<PathBuf>,
        /// The appliance's configuration file: its data directory, storage, licences and KEK
        /// passphrase apply when no daemon runs and the console opens the module itself.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Create a factory-new module when the directory holds none (without it, a directory
        /// without an appliance is refused, so a mistyped path cannot become a new appliance).
        #[arg(long)]
        create: bool,
    },
    /// The local-console-only `recover` account: reset the appliance user `admin` to the
    /// factory password `PASSWORD` (to be changed at its next login). The HSM is not touched.
    Recover {
        /// The appliance's data directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Run a ready development appliance from embedded defaults (created on first use).
    Dev {
        /// Directory for the development appliance.
        #[arg(long)]
        dir: PathBuf,
    },
}

fn init_logging(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only on a terminal: a log file or the journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config } => Config::load(&config).and_then(|config| {
            init_logging(&config.log.level, config.log.format == "json");
            let module = strongroomd::open_module(&config)?;
            strongroomd::run(config, module)
        }),
        Command::Console {
            dir,
            config,
            create,
        } => {
            init_logging("warn", false);
            let config = match (dir, config) {
                (_, Some(path)) => Config::load(&path),
                (Some(dir), None) => Ok(Config::with_defaults(dir)),
                (None, None) => Err("give --dir or --config".to_owned()),
            };
            config.and_then(|config| console(config, create))
        }
        Command::Recover { dir } => {
            init_logging("warn", false);
            strongroomd::recover(&dir).map(|()| {
                println!(
                    "The appliance user 'admin' now has the factory password '{}' and must change \
                     it at the next login.",
                    strongroomd::FACTORY_PASSWORD
                );
            })
        }
        Command::Dev { dir } => {
            init_logging("info", false);
            strongroomd::dev_prepare(&dir).and_then(|(config, module, listeners)| {
                strongroomd::run_with_listeners(config, module, listeners)
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("strongroomd: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn console(config: Config, create: bool) -> Result<(), String> {
    if strongroomd::attach(&config.data_dir)? {
        return Ok(());
    }
    // No running appliance: open the module here (the store's lock refuses a second opener).
    // Without --create, never create a module: a mistyped path must not become an appliance.
    if !create && !strongroom_store::Store::exists(&config.data_dir) {
        return Err(format!(
            "no appliance in {} (start one with 'strongroomd run' or 'strongroomd dev')",
            config.data_dir.display()
        ));
    }
    let module = strongroomd::open_module(&config)?;
    let mut appliance = Appliance::new(module, config.data_dir.clone(), config.hostname.clone());
    appliance.files = config.files;
    appliance.audit = config.audit.limits();
    let mut session = Session::new(appliance, "admin", Role::Admin, Channel::LocalConsole);
    session.run(&mut LocalTerminal::new());
    Ok(())
}
