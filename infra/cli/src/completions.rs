//! `dispatch completions SHELL`: the completion script of the whole command tree, generated
//! by `clap_complete` from the same definitions the parser uses, so it never falls behind.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// The shell to print the script for.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `shell` to `out`.
pub fn write(shell: Shell, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut command = crate::Cli::command();
    clap_complete::generate(shell, &mut command, "dispatch", out);
    out.flush()
}
