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

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut out = Vec::new();
        write(shell, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_script_completes_the_command_groups_and_their_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = script(shell);
            for word in ["database", "upgrade", "user", "register", "scheduler"] {
                assert!(script.contains(word), "{shell}: {word} missing");
            }
        }
        // The global flags, as each shell spells an option.
        assert!(script(Shell::Bash).contains("--table"));
        assert!(script(Shell::Zsh).contains("--table"));
        assert!(script(Shell::Fish).contains("-l table"));
        assert!(script(Shell::Bash).contains("complete -F _dispatch"));
    }
}
