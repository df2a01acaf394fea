//! The `pledge` binary: everything lives in the library, see [`pledge::cli`].

fn main() -> std::process::ExitCode {
    pledge::cli::main()
}
