//! `strongroom-cm`: the Strongroom client manager.

#![forbid(unsafe_code)]

mod clientconfig;
mod shell;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "strongroom-cm",
    version,
    about = "The Strongroom client manager"
)]
struct Cli {
    /// The client configuration file (default: $STRONGROOM_CONF, else /etc/strongroom/strongroom.toml).
    #[arg(long, global = true)]
    conf: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// This client's certificate and the appliances it trusts.
    #[command(subcommand)]
    Clientconfig(ClientConfigCmd),
    /// The interactive shell (the default): slots, partitions and roles; commands are read
    /// from standard input, so it can be scripted.
    Shell,
    /// List the partitions this client can see through its configured appliances.
    Verify,
    /// Run one shell command on the first slot, e.g. `strongroom-cm run role list`.
    Run {
        /// The command and its options, as typed in the shell.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        words: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ClientConfigCmd {
    /// Create this client's key and certificate (give the certificate to the appliance's
    /// administrator for 'client register').
    Createcert {
        /// This client's host name or IP address, as the appliance will register it.
        #[arg(short = 'n', long = "name")]
        name: String,
        /// Replace an existing certificate and key.
        #[arg(long)]
        force: bool,
    },
    /// Trust an appliance: its server.pem, copied from the appliance.
    Addserver {
        /// The appliance's host name or IP address (as in its certificate).
        #[arg(short = 'n', long = "name")]
        name: String,
        /// The appliance's certificate (server.pem).
        #[arg(short = 'c', long = "cert")]
        cert: PathBuf,
        /// host:port of its NTLS listener (default: NAME:1792).
        #[arg(short = 'a', long = "address")]
        address: Option<String>,
    },
    /// List the trusted appliances.
    Listservers,
    /// Stop trusting an appliance.
    Deleteserver {
        /// The appliance's name.
        #[arg(short = 'n', long = "name")]
        name: String,
    },
}

fn conf_path(cli_conf: Option<PathBuf>) -> PathBuf {
    cli_conf
        .or_else(|| std::env::var_os(strongroom_client::CONF_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(strongroom_client::DEFAULT_PATH))
}

/// The client of the configuration at `path`.
fn client(path: &std::path::Path) -> Result<strongroom_client::Client, String> {
    strongroom_client::ClientConfig::load(path)
        .map(strongroom_client::Client::new)
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let path = conf_path(cli.conf);
    let command = cli.command.unwrap_or(Command::Shell);
    let shell_result = match &command {
        Command::Shell => Some(client(&path).map(shell::interactive)),
        Command::Verify => Some(client(&path).map(|c| shell::one_shot(c, &["verify".into()]))),
        Command::Run { words } => Some(client(&path).map(|c| shell::one_shot(c, words))),
        Command::Clientconfig(_) => None,
    };
    if let Some(result) = shell_result {
        return match result {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(msg) => {
                eprintln!("Error: {msg}");
                ExitCode::FAILURE
            }
        };
    }
    let Command::Clientconfig(command) = command else {
        return ExitCode::FAILURE;
    };
    let result = clientconfig::ClientConf::open(&path).and_then(|mut conf| match command {
        ClientConfigCmd::Createcert { name, force } => {
            let (cert, key) = conf.create_cert(&name, force)?;
            println!("Private Key created and written to: {}", key.display());
            println!("Certificate created and written to: {}", cert.display());
            println!("Give the certificate to the appliance administrator for 'client register'.");
            Ok(())
        }
        ClientConfigCmd::Addserver {
            name,
            cert,
            address,
        } => {
            let stored = conf.add_server(&name, &cert, address.as_deref())?;
            println!(
                "New server {name} successfully added to server list ({}).",
                stored.display()
            );
            Ok(())
        }
        ClientConfigCmd::Listservers => {
            let servers = conf.list_servers();
            if servers.is_empty() {
                println!("No servers are configured.");
            }
            for (i, (name, address)) in servers.iter().enumerate() {
                println!("Server {}: {name} ({address})", i + 1);
            }
            Ok(())
        }
        ClientConfigCmd::Deleteserver { name } => {
            conf.delete_server(&name)?;
            println!("Server {name} successfully removed from server list.");
            Ok(())
        }
    });
    match result {
        Ok(()) => {
            println!("\nCommand Result : No Error");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("Error: {msg}");
            println!("\nCommand Result : Failed");
            ExitCode::FAILURE
        }
    }
}
