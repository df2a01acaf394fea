//! The `pledge` binary: everything lives in the library, see [`pledge::cli`].

/// Small, short-lived allocations dominate a check; see bench/RESULTS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    pledge::cli::main()
}
