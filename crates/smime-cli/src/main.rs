//! `smime`: sign and encrypt emails with S/MIME and inject them. Parses the command line,
//! checks what clap cannot, runs, and maps outcomes to exit codes; the work is in
//! `smime-core` and `smime-transport`.

#![forbid(unsafe_code)]

mod certs;
mod cli;
mod error;
mod human;
mod inputs;
mod journal;
mod logging;
mod output;
mod passphrase;
mod report;
mod run;
mod show;
mod target;

use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use smime_core::{Cipher, KeyBackend, KeyStore, Options, Protector, SignMode};
use smime_transport::RetryPolicy;

use crate::cli::{BackendArg, CertsCommand, Cli, Command, RunArgs};
use crate::error::CliError;
use crate::report::Reporter;
use crate::run::{Run, Sink};

fn main() {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let code = match cli.command {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "smime", &mut std::io::stdout());
            0
        }
        Some(Command::Man) => {
            let man = clap_mangen::Man::new(Cli::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => 0,
                Err(e) => fail(&CliError::WriteOutput {
                    file: "<stdout>".into(),
                    source: e,
                }),
            }
        }
        Some(Command::Certs {
            command: CertsCommand::List { keys, trust, json },
        }) => match certs::list(&keys, &trust, json) {
            Ok(()) => 0,
            Err(e) => fail(&e),
        },
        Some(Command::Certs {
            command: CertsCommand::Import(args),
        }) => match certs::import(&args) {
            Ok(code) => code,
            Err(e) => fail(&e),
        },
        Some(Command::Show { file, json }) => {
            let format = if json {
                show::Format::Json
            } else {
                show::Format::Text
            };
            match show::command(file.as_deref(), format) {
                Ok(()) => 0,
                Err(e) => fail(&e),
            }
        }
        None => match protect_and_send(&cli.run, cli.verbose) {
            Ok(code) => code,
            Err(e) => fail(&e),
        },
    };
    std::process::exit(code);
}

fn fail(e: &CliError) -> i32 {
    let mut line = format!("smime: {e}");
    if let Some(hint) = e.hint() {
        line.push_str(&format!(" (hint: {hint})"));
    }
    eprintln!("{line}");
    e.exit_code()
}

fn usage(message: &str) -> ! {
    Cli::command()
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

fn protect_and_send(args: &RunArgs, verbose: u8) -> Result<i32, CliError> {
    if !args.sign && !args.sign_detached && !args.encrypt {
        usage("nothing to do: give --sign, --sign-detached and/or --encrypt");
    }
    let inputs::Inputs { files, passed_over } = inputs::expand(&args.files)?;
    if files.is_empty() {
        if passed_over.is_empty() {
            usage("no input files (a directory without *.eml, or an empty list on stdin)");
        }
        usage(&format!(
            "no input files: the directories hold no *.eml ({} other {} passed over)",
            passed_over.len(),
            if passed_over.len() == 1 {
                "file"
            } else {
                "files"
            }
        ));
    }
    let target = target::build(args)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        files = files.len(),
        target = target.as_ref().map(|t| t.opened.as_str()),
        concurrency = target.as_ref().map(|t| t.concurrency),
        "starting"
    );
    let sink = match (target, &args.output, &args.output_dir) {
        (Some(t), _, _) => Sink::Send(t),
        (None, Some(path), _) if files.len() == 1 => Sink::File(path.clone()),
        (None, Some(_), _) => usage("-o takes one input; use --output-dir for several"),
        (None, None, Some(dir)) => {
            std::fs::create_dir_all(dir).map_err(|source| CliError::WriteOutput {
                file: dir.clone(),
                source,
            })?;
            Sink::Dir(dir.clone())
        }
        (None, None, None) if files.len() > 1 => {
            usage("several inputs: give --output-dir, --send-smtp or --send-api")
        }
        (None, None, None) if args.json => {
            usage("--json uses standard output: give -o, --output-dir or a send option")
        }
        (None, None, None) => Sink::Stdout,
    };

    let protector = Arc::new(protector(args)?);
    let journal = match &args.journal {
        Some(path) => {
            Some(
                journal::Journal::open(path).map_err(|source| CliError::WriteOutput {
                    file: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let target_ref = match &sink {
        Sink::Send(t) => Some(t),
        _ => None,
    };
    let reporter = Arc::new(Reporter::new(
        files.len(),
        args.quiet,
        verbose > 0,
        args.json,
        target_ref,
        journal,
        passed_over,
    ));
    let retry = RetryPolicy::default()
        .max_attempts(args.attempts.max(1))
        .first_backoff(Duration::from_secs_f64(args.retry_wait.clamp(0.0, 3600.0)));
    let run = Run {
        protector,
        files,
        sink,
        max_size: args.max_size,
        retry,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Internal(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(run.execute(reporter)))
}

fn protector(args: &RunArgs) -> Result<Protector, CliError> {
    let mut keys = KeyStore::open(&args.keys).map_err(CliError::Keys)?;
    keys = keys.with_key_backend(match args.key_backend {
        BackendArg::AwsLc => KeyBackend::AwsLc,
        BackendArg::Rustcrypto => KeyBackend::RustCrypto,
    });
    if let Some(p) = &args.signer_key {
        target::warn_if_exposed(p);
        keys = keys.with_signer_key_file(p);
    }
    if let Some(p) = &args.signer_cert {
        keys = keys.with_signer_cert_file(p);
    }
    if args.dangerous_skip_cert_checks {
        keys = keys.dangerous_skip_certificate_checks();
    }
    if let Some(source) = passphrase::source(args.key_password_file.as_deref())? {
        keys = keys.with_passphrase_source(source);
    }
    if args.require_trusted {
        keys = keys.require_trusted(certs::trust_store(&args.trust)?);
    } else if !args.trust.trust.is_empty() || args.trust.no_system_trust {
        usage("--trust and --no-system-trust choose the anchors of --require-trusted: give it too");
    }
    warn_exposed_keys(&args.keys);
    let mut options = Options::default();
    options.sign = if args.sign {
        Some(SignMode::Opaque)
    } else if args.sign_detached {
        Some(SignMode::Detached)
    } else {
        None
    };
    options.encrypt = args.encrypt;
    options.encrypt_to_self = !args.no_encrypt_to_self;
    if args.aes128 {
        options.cipher = Cipher::Aes128Cbc;
    }
    Ok(Protector::new(Arc::new(keys), options))
}

/// Warns, in one line, about private key files in the keys directory that others can read.
fn warn_exposed_keys(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let exposed = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("pem")))
        .filter(|p| target::is_exposed(p) && !target::is_published_test_key(p))
        .count();
    if exposed > 0 {
        eprintln!(
            "smime: warning: {exposed} private key file(s) in {} can be read by group or others \
             (chmod 600 {}/*.pem)",
            dir.display(),
            dir.display()
        );
    }
}
