//! Writing to standard output without panicking when the reader goes away
//! (`gust dags list | head -3`): a closed pipe ends the command quietly.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// Writes `args` to standard output.
pub(crate) fn write(args: Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if err.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(2);
    }
}

/// `println!` that does not panic on a closed pipe.
macro_rules! say {
    () => { $crate::cli::out::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::out::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that does not panic on a closed pipe.
macro_rules! say_raw {
    ($($arg:tt)*) => { $crate::cli::out::write(format_args!($($arg)*)) };
}

pub(crate) use {say, say_raw};
