//! attune: see the crate documentation in lib.rs.

fn main() -> std::process::ExitCode {
    attune::cli::run()
}
