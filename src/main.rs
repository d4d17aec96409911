use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = relais::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("relais: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(relais::cli::run(cli));
    // Everything that matters was joined inside `run`; what is left (an idle signal listener,
    // blocking threads parked by the database driver) must not delay the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("relais: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
